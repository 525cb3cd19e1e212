package main

import "github.com/tracehop/tracehop/enrich"

// embeddedDatabases lists the builds of the default data compiled into the
// binary, with the attribution their licences require.
func embeddedDatabases() []enrich.DatabaseInfo { return enrich.EmbeddedDatabases() }
