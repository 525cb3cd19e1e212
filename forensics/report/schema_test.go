package report

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tracehop/tracehop/enrich"
)

// The JSON Schema of report.json (schema/report.schema.json) is generated
// from the Go types by reflection, so it cannot drift from what is
// written: TestReportSchema fails when the committed file differs (refresh
// with -update and review the diff), and every report.json the tests write
// is validated against it with the small validator below.

const schemaFile = "schema/report.schema.json"

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

type schemaGen struct {
	defs map[string]any
}

func (g *schemaGen) of(t reflect.Type, nullable bool) map[string]any {
	s := g.base(t)
	if nullable {
		if typ, ok := s["type"].(string); ok {
			s["type"] = []any{typ, "null"}
		} else if ref, ok := s["$ref"]; ok {
			s = map[string]any{"anyOf": []any{map[string]any{"$ref": ref}, map[string]any{"type": "null"}}}
		}
	}
	return s
}

func (g *schemaGen) base(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		return g.base(t.Elem())
	}
	if t == reflect.TypeFor[enrich.Sources]() {
		// Written as the list it holds (its MarshalJSON).
		return g.base(reflect.TypeFor[[]enrich.Source]())
	}
	if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		s := map[string]any{"type": "string"}
		switch t.String() {
		case "forensics.Time":
			s["pattern"] = `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`
		case "netip.Addr":
			s["description"] = "IPv4 or IPv6 address"
		}
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem(), false)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem(), false)}
	case reflect.Struct:
		name := t.Name()
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = nil // recursion guard
			props := map[string]any{}
			var req []string
			g.fields(t, props, &req)
			slices.Sort(req)
			def := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			if len(req) > 0 {
				def["required"] = req
			}
			g.defs[name] = def
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	}
	panic("schema: unsupported " + t.String())
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, req *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			g.fields(f.Type, props, req)
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		k := f.Type.Kind()
		nullable := !omit && (k == reflect.Slice || k == reflect.Map || k == reflect.Pointer)
		props[name] = g.of(f.Type, nullable)
		if !omit {
			*req = append(*req, name)
		}
	}
}

func generateSchema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	root := g.base(reflect.TypeFor[Document]())
	s := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "urn:tracehop:schema:report:1",
		"title":       "tracehop report.json " + SchemaVersion,
		"description": "The evidential JSON form of a tracehop report bundle. Generated from the Go types (forensics/report/schema_test.go); do not edit by hand.",
		"$ref":        root["$ref"],
		"$defs":       g.defs,
	}
	s["$defs"].(map[string]any)["Document"].(map[string]any)["properties"].(map[string]any)["schema_version"] = map[string]any{"const": SchemaVersion}
	return marshalIndent(s)
}

func TestReportSchema(t *testing.T) {
	got, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: the report types changed (run go test ./forensics/report -run Schema -update, review, and bump SchemaVersion if incompatible)", schemaFile)
	}
	var schema map[string]any
	json.Unmarshal(want, &schema)
	for _, tc := range []struct {
		name string
		opts Options
		host bool
	}{{"normal", Options{}, false}, {"hostile", Options{TLP: "red"}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := writeTestBundle(t, testCase(tc.host), tc.opts)
			doc, _ := os.ReadFile(filepath.Join(dir, FileReportJSON))
			var v any
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			for _, e := range validate(schema, schema, v, "$") {
				t.Error(e)
			}
		})
	}
	// The validator itself must reject what the schema forbids.
	bad := map[string]any{"schema_version": "x", "cover": map[string]any{}, "extra": true}
	if errs := validate(schema, schema, bad, "$"); len(errs) < 3 {
		t.Errorf("validator accepts a bad document: %v", errs)
	}
}

// validate checks v against the subset of JSON Schema generateSchema
// emits: $ref, anyOf, type, const, pattern, minimum, properties,
// required, additionalProperties and items.
func validate(root, s map[string]any, v any, path string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		def, _ := root["$defs"].(map[string]any)[name].(map[string]any)
		if def == nil {
			return []string{path + ": unresolved " + ref}
		}
		return validate(root, def, v, path)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var all []string
		for _, alt := range alts {
			errs := validate(root, alt.(map[string]any), v, path)
			if len(errs) == 0 {
				return nil
			}
			all = append(all, errs...)
		}
		return all
	}
	var errs []string
	if c, ok := s["const"]; ok && v != c {
		errs = append(errs, fmt.Sprintf("%s: %v is not %v", path, v, c))
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch t := typ.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, e := range t {
				types = append(types, e.(string))
			}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return jsonType(v, t) }) {
			return append(errs, fmt.Sprintf("%s: %T is not %v", path, v, types))
		}
	}
	switch t := v.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(t) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", path, t, p))
		}
	case json.Number:
		if m, ok := s["minimum"].(float64); ok {
			if f, _ := t.Float64(); f < m {
				errs = append(errs, fmt.Sprintf("%s: %s below %v", path, t, m))
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range t {
				errs = append(errs, validate(root, items, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := t[r]; !ok {
				errs = append(errs, fmt.Sprintf("%s: missing %s", path, r))
			}
		}
		for k, e := range t {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(root, ps, e, path+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, fmt.Sprintf("%s: unexpected property %s", path, k))
				}
			case map[string]any:
				errs = append(errs, validate(root, ap, e, path+"."+k)...)
			}
		}
	}
	return errs
}

func jsonType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil || !strings.ContainsAny(n.String(), ".eE")
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			out = append(out, e.(string))
		}
	}
	return out
}
