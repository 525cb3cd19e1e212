package trace

import "strconv"

func itoa(v int) string { return strconv.Itoa(v) }

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
