package capture

import "encoding/binary"

// maxFPCache bounds the fingerprint cache; when full it starts over, so a
// hostile capture with endless distinct hellos costs time, not memory.
const maxFPCache = 4096

// clientFP is the JA3/JA4 result for one ClientHello shape.
type clientFP struct{ ja3, ja3Hash, ja4 string }

// fpCache memoizes fingerprints by the exact fields they are computed
// from: thousands of clients send the same hello shape, and MD5/SHA-256
// plus string building cost more than the rest of a flow. The key is the
// fields themselves (not a hash of them), so a cache hit is exact.
type fpCache struct {
	client map[string]clientFP
	server map[string][2]string
	key    []byte
}

func appendList16(b []byte, vs []uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(vs)))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

func (c *fpCache) clientFingerprints(ch *clientHello) clientFP {
	k := binary.BigEndian.AppendUint16(c.key[:0], ch.version)
	k = appendList16(k, ch.ciphers)
	k = appendList16(k, ch.extensions)
	k = appendList16(k, ch.groups)
	k = appendList16(k, ch.sigAlgs)
	k = appendList16(k, ch.supportedVers)
	k = append(k, byte(len(ch.pointFormats)))
	k = append(k, ch.pointFormats...)
	if len(ch.alpn) > 0 {
		k = append(k, ch.alpn[0]...)
	}
	c.key = k
	if fp, ok := c.client[string(k)]; ok {
		return fp
	}
	fp := clientFP{ja3: ch.ja3(), ja4: ch.ja4()}
	fp.ja3Hash = md5Hex(fp.ja3)
	if c.client == nil || len(c.client) >= maxFPCache {
		c.client = make(map[string]clientFP)
	}
	c.client[string(k)] = fp
	return fp
}

func (c *fpCache) serverFingerprint(sh *serverHello) (ja3s, hash string) {
	k := binary.BigEndian.AppendUint16(c.key[:0], sh.version)
	k = binary.BigEndian.AppendUint16(k, sh.cipher)
	k = appendList16(k, sh.extensions)
	c.key = k
	if v, ok := c.server[string(k)]; ok {
		return v[0], v[1]
	}
	ja3s = sh.ja3s()
	hash = md5Hex(ja3s)
	if c.server == nil || len(c.server) >= maxFPCache {
		c.server = make(map[string][2]string)
	}
	c.server[string(k)] = [2]string{ja3s, hash}
	return ja3s, hash
}
