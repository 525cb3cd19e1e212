package report

func renderSTIX(b *bundle, v *view) error { return nil }
