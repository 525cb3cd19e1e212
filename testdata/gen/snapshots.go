package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// snapshotBuild is one dated build of the snapshot test database: the same
// network answers differently in each, so a test can tell which build a
// lookup used.
type snapshotBuild struct {
	file    string
	build   time.Time
	country string
	name    string
	city    string
	lat     float64
	lon     float64
}

// snapshotBuilds are the three builds (enrich tests rely on these values).
var snapshotBuilds = []snapshotBuild{
	{"city-20250115.mmdb", time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC), "KR", "South Korea", "Seoul", 37.5665, 126.978},
	{"city-20250615.mmdb", time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC), "JP", "Japan", "Tokyo", 35.6895, 139.6917},
	{"city-20251115.mmdb", time.Date(2025, 11, 15, 0, 0, 0, 0, time.UTC), "CN", "China", "Hangzhou", 30.2741, 120.1551},
}

// writeSnapshots writes three builds of one test database with different
// build_epoch values and different answers for the same IP (enrichment):
// 1.2.3.0/24 moves KR -> JP -> CN; 1.2.4.0/24 stays in DE throughout.
func writeSnapshots(dir string) error {
	_, moving, _ := net.ParseCIDR("1.2.3.0/24")
	_, fixed, _ := net.ParseCIDR("1.2.4.0/24")
	for _, b := range snapshotBuilds {
		tree, err := mmdbwriter.New(mmdbwriter.Options{
			DatabaseType: "tracehop-Snapshot-Test (compat=City)",
			BuildEpoch:   b.build.Unix(),
			RecordSize:   24,
			Languages:    []string{"en"},
			Description:  map[string]string{"en": "tracehop snapshot test database (synthetic), build " + b.build.Format(time.DateOnly)},
		})
		if err != nil {
			return err
		}
		country := mmdbtype.Map{"iso_code": mmdbtype.String(b.country), "names": mmdbtype.Map{"en": mmdbtype.String(b.name)}}
		rec := mmdbtype.Map{
			"country":            country,
			"registered_country": country,
			"city":               mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(b.city)}},
			"location": mmdbtype.Map{
				"latitude":        mmdbtype.Float64(b.lat),
				"longitude":       mmdbtype.Float64(b.lon),
				"accuracy_radius": mmdbtype.Uint16(50),
			},
		}
		if err := tree.Insert(moving, rec); err != nil {
			return err
		}
		de := mmdbtype.Map{"iso_code": mmdbtype.String("DE"), "names": mmdbtype.Map{"en": mmdbtype.String("Germany")}}
		if err := tree.Insert(fixed, mmdbtype.Map{"country": de, "registered_country": de}); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, b.file))
		if err != nil {
			return err
		}
		if _, err := tree.WriteTo(f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", b.file, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
