// Package capture reads pcap and pcapng captures into flows.
package capture
