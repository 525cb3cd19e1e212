package report

func renderHTML(b *bundle, v *view) error { return nil }
