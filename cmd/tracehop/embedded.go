package main

import "github.com/tracehop/tracehop/enrich"

// embeddedDatabases lists the builds of the default data compiled into the
// binary. The enrichment work replaces this with enrich's own list.
func embeddedDatabases() []enrich.DatabaseInfo { return nil }
