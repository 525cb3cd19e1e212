package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// maxSSHBanner is RFC 4253's limit on the identification line.
const maxSSHBanner = 255

// sshSide is what one direction of an SSH connection showed: the
// identification string and the HASSH input from its KEXINIT.
type sshSide struct {
	banner string
	// c2s and s2c are the HASSH inputs "kex;ciphers;macs;compression"
	// with the client-to-server and server-to-client lists.
	c2s, s2c string
	kexOK    bool
}

// parseSSH reads the identification line and, after it, the first binary
// packet if it is a KEXINIT. Lines before "SSH-" (allowed for servers) are
// skipped. It returns parsed once the KEXINIT was read or cannot come.
func parseSSH(b []byte) (sshSide, parseStatus) {
	var s sshSide
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(b) > maxSSHBanner*4 {
				return s, invalid
			}
			return s, needMore
		}
		line := bytes.TrimRight(b[:i], "\r")
		b = b[i+1:]
		if bytes.HasPrefix(line, []byte("SSH-")) {
			if len(line) > maxSSHBanner {
				line = line[:maxSSHBanner]
			}
			s.banner = printable(line)
			break
		}
		if len(line) > maxSSHBanner*4 {
			return s, invalid
		}
	}
	if len(b) < 6 {
		return s, needMore
	}
	plen := int(binary.BigEndian.Uint32(b[0:4]))
	if plen < 2 || plen > 35000 {
		return s, parsed // not a plain binary packet: banner only
	}
	pad := int(b[4])
	if b[5] != 20 { // SSH_MSG_KEXINIT
		return s, parsed
	}
	if len(b) < 4+plen {
		return s, needMore
	}
	if pad+2 > plen { // the payload must hold at least the message type
		return s, parsed
	}
	payload := b[5 : 4+plen-pad]
	r := reader{b: payload[1:]}
	r.bytes(16) // cookie
	var lists [10]string
	for i := range lists {
		lists[i] = string(r.bytes(int(r.u32())))
	}
	if r.bad {
		return s, parsed
	}
	// kex; enc c2s; mac c2s; comp c2s. For the server's KEXINIT,
	// HASSHServer uses the s2c lists.
	s.kexOK = true
	s.c2s = strings.Join([]string{lists[0], lists[2], lists[4], lists[6]}, ";")
	s.s2c = strings.Join([]string{lists[0], lists[3], lists[5], lists[7]}, ";")
	return s, parsed
}

// printable replaces bytes outside printable ASCII so that banners
// cannot carry control characters into reports.
func printable(b []byte) string {
	ok := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			ok = false
			break
		}
	}
	if ok {
		return string(b)
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
