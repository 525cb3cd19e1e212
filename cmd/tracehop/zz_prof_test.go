package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

func TestZZProf(t *testing.T) {
	g := &globalOptions{io: &ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, TZ: "UTC", NoEnrich: true, Quiet: true}
	if err := runEvents(context.Background(), &eventsOptions{g: g, Inputs: []string{"/tmp/c300k.log"}, MaxLine: 65536, MaxField: 8192}); err != nil {
		t.Fatal(err)
	}
}
