package report

func renderPDF(b *bundle, v *view) error { return nil }
