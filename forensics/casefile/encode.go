package casefile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tracehop/tracehop/enrich"
	"github.com/tracehop/tracehop/forensics"
)

// encodedBlock is one block ready to insert.
type encodedBlock struct {
	keys, js   []byte
	n          int
	tmin, tmax int64
	codec      string
	first      int // index of the block's first record in the input
	bufs       *blockBufs
}

// blockBufs are the buffers of one block, handed back for reuse once the
// block is inserted (the driver copies what it binds), so ingest does not
// allocate half a megabyte per block.
type blockBufs struct{ js, keys, z, zk []byte }

// bufPool is a free list of blockBufs shared by the workers of one input.
type bufPool chan *blockBufs

func (p bufPool) get() *blockBufs {
	select {
	case b := <-p:
		return b
	default:
		return &blockBufs{js: make([]byte, 0, 640<<10), keys: make([]byte, 0, 64<<10)}
	}
}

func (p bufPool) put(b *blockBufs) {
	if b == nil {
		return
	}
	select {
	case p <- b:
	default:
	}
}

// geoResult is one distinct enrichment result met in a chunk.
type geoResult struct {
	rec *enrich.Record
	js  string
}

// encodedChunk is what one worker made of blockRecords records: usually
// one block (more when the JSON passed blockBytes), and the distinct
// enrichment results they carry.
type encodedChunk struct {
	blocks []encodedBlock
	geo    []geoResult
	err    error
}

// recordKind is how one record kind is encoded: the hand-written
// encoder of the model (forensics.AppendFlowJSONGeo,
// forensics.AppendEventJSONGeo), the enrichment JSON coming from geo.
type recordKind[T any] struct {
	append func(dst []byte, r *T, geo geoFunc) ([]byte, error)
}

// geoFunc returns the JSON of an enrichment record.
type geoFunc func(*enrich.Record) ([]byte, error)

// encodeGeo is geo(g), or nil for a nil g.
func encodeGeo(g *enrich.Record, geo geoFunc) ([]byte, error) {
	if g == nil {
		return nil, nil
	}
	return geo(g)
}

func flowKind() recordKind[forensics.Flow] {
	return recordKind[forensics.Flow]{append: func(b []byte, fl *forensics.Flow, geo geoFunc) ([]byte, error) {
		src, err := encodeGeo(fl.SrcGeo, geo)
		if err != nil {
			return nil, err
		}
		dst, err := encodeGeo(fl.DstGeo, geo)
		if err != nil {
			return nil, err
		}
		return forensics.AppendFlowJSONGeo(b, fl, src, dst), nil
	}}
}

func eventKind() recordKind[forensics.Event] {
	return recordKind[forensics.Event]{append: func(b []byte, ev *forensics.Event, geo geoFunc) ([]byte, error) {
		src, err := encodeGeo(ev.SrcGeo, geo)
		if err != nil {
			return nil, err
		}
		return forensics.AppendEventJSONGeo(b, ev, src), nil
	}}
}

// writeBlocks stores recs as blocks of kind. JSON encoding is most of the
// cost of ingest, so chunks are encoded on every core while this goroutine
// inserts the finished ones in order (the file is the same whatever the
// number of cores). At most two chunks per core are in flight.
func writeBlocks[T any](w *rowWriter, kind string, evID int64, recs []T, key func(*T) recKey, kindOf func() recordKind[T]) error {
	if w.n > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(recs) == 0 {
		return nil
	}
	gf := kindOf()
	workers := max(1, runtime.GOMAXPROCS(0))
	nChunks := (len(recs) + blockRecords - 1) / blockRecords
	results := make([]chan encodedChunk, nChunks)
	for i := range results {
		results[i] = make(chan encodedChunk, 1)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	slots := make(chan struct{}, 2*workers)
	pool := make(bufPool, 4*workers)
	geo := &geoCache{}
	go func() {
		for i := range nChunks {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			lo, hi := i*blockRecords, min((i+1)*blockRecords, len(recs))
			go func() { results[i] <- encodeChunk(recs[lo:hi], lo, key, gf, geo, w.compress, pool) }()
		}
	}()
	st := w.prepare(&w.blockStmt, insertBlock)
	if w.err != nil {
		return w.err
	}
	for i := range nChunks {
		var c encodedChunk
		select {
		case c = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-slots
		if c.err != nil {
			return fmt.Errorf("%s: %w", kind, c.err)
		}
		for _, b := range c.blocks {
			if _, err := st.ExecContext(ctx, kind, evID, b.n, b.tmin, b.tmax, b.codec, b.keys, b.js); err != nil {
				return fmt.Errorf("%s block at record %d: %w", kind, b.first+1, err)
			}
			pool.put(b.bufs)
		}
		for _, g := range c.geo {
			if err := w.enrichmentJSON(g.rec, g.js); err != nil {
				return err
			}
		}
	}
	return nil
}

// chunkEncoder encodes the records of one chunk with the hand-written
// encoder. Each distinct enrichment record (by pointer: enrichers hand out
// shared records) is encoded once by encoding/json and copied into every
// record that carries it; its JSON also keys the enrichment table. The
// first record of the chunk is also encoded by encoding/json and compared,
// so the hand-written encoder is only used while it gives exactly the
// bytes encoding/json does.
type chunkEncoder[T any] struct {
	kind    recordKind[T]
	geoFn   geoFunc // geoJSON, bound once
	buf     bytes.Buffer
	enc     *json.Encoder
	gbuf    bytes.Buffer
	genc    *json.Encoder
	out     []byte
	geoJS   map[*enrich.Record][]byte
	shared  *geoCache
	seen    map[string]struct{}
	geo     []geoResult
	checked bool
	fast    bool
}

func newChunkEncoder[T any](kind recordKind[T], shared *geoCache) *chunkEncoder[T] {
	ce := &chunkEncoder[T]{kind: kind, shared: shared, geoJS: map[*enrich.Record][]byte{}, seen: map[string]struct{}{}}
	ce.enc = json.NewEncoder(&ce.buf)
	ce.enc.SetEscapeHTML(false)
	ce.genc = json.NewEncoder(&ce.gbuf)
	ce.genc.SetEscapeHTML(false)
	ce.geoFn = ce.geoJSON
	return ce
}

// geoCache is the JSON of the enrichment records met by the workers of
// one input, shared so each distinct record is encoded once per input
// rather than once per chunk. It only saves work: what a chunk reports
// (encodedChunk.geo) does not depend on it, so the file does not depend on
// which worker met a record first.
//
// It holds at most geoCacheMax records, so an input whose records each
// carry their own copy of their enrichment (nothing to share) costs a
// bounded amount of memory.
type geoCache struct {
	m sync.Map // *enrich.Record → []byte
	n atomic.Int64
}

// geoCacheMax bounds a geoCache (a few hundred bytes per record).
const geoCacheMax = 1 << 14

// geoJSON returns g's JSON, encoding it on first sight.
func (c *chunkEncoder[T]) geoJSON(g *enrich.Record) ([]byte, error) {
	if js, ok := c.geoJS[g]; ok {
		return js, nil
	}
	var js []byte
	if v, ok := c.shared.load(g); ok {
		js = v
	} else {
		c.gbuf.Reset()
		if err := c.genc.Encode(g); err != nil {
			return nil, err
		}
		js = bytes.Clone(bytes.TrimSuffix(c.gbuf.Bytes(), []byte{'\n'}))
		c.shared.store(g, js)
	}
	c.geoJS[g] = js
	if g.IP.IsValid() {
		js := string(js)
		if _, ok := c.seen[js]; !ok {
			c.seen[js] = struct{}{}
			c.geo = append(c.geo, geoResult{rec: g, js: js})
		}
	}
	return js, nil
}

func (c *geoCache) load(g *enrich.Record) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	v, ok := c.m.Load(g)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}

func (c *geoCache) store(g *enrich.Record, js []byte) {
	if c != nil && c.n.Load() < geoCacheMax {
		if _, loaded := c.m.LoadOrStore(g, js); !loaded {
			c.n.Add(1)
		}
	}
}

// line returns r's JSON line (with its newline), valid until the next call.
func (c *chunkEncoder[T]) line(r *T) ([]byte, error) {
	if !c.checked {
		c.checked = true
		fast, err := c.hand(r)
		if err != nil {
			return nil, err
		}
		whole, err := c.whole(r)
		if err != nil {
			return nil, err
		}
		c.fast = bytes.Equal(fast, whole)
		return whole, nil
	}
	if !c.fast {
		return c.whole(r)
	}
	return c.hand(r)
}

func (c *chunkEncoder[T]) whole(r *T) ([]byte, error) {
	c.buf.Reset()
	err := c.enc.Encode(r)
	return c.buf.Bytes(), err
}

// hand returns r's line from the hand-written encoder; the bytes are
// valid until the next call.
func (c *chunkEncoder[T]) hand(r *T) ([]byte, error) {
	out, err := c.kind.append(c.out[:0], r, c.geoFn)
	if err != nil {
		return nil, err
	}
	out = append(out, '\n')
	c.out = out
	return out, nil
}

// insertBlock stores one block.
const insertBlock = `INSERT INTO blocks(kind, evidence_id, n, t_min, t_max, codec, keys, json) VALUES(?, ?, ?, ?, ?, ?, ?, ?)`

func encodeChunk[T any](recs []T, first int, key func(*T) recKey, gf recordKind[T], geo *geoCache, compress bool, pool bufPool) (c encodedChunk) {
	defer func() {
		// A record that cannot be encoded fails its input, not the process.
		if r := recover(); r != nil {
			c = encodedChunk{err: fmt.Errorf("encode record near %d: %v", first+1, r)}
		}
	}()
	ce := newChunkEncoder(gf, geo)
	newBlock := func(first int) encodedBlock {
		bufs := pool.get()
		return encodedBlock{first: first, js: bufs.js[:0], keys: bufs.keys[:0], bufs: bufs}
	}
	done := func(b encodedBlock) {
		b.bufs.js, b.bufs.keys = b.js, b.keys // keep what grew
		if compress {
			b.bufs.z = s2Pack(b.bufs.z, b.js)
			b.bufs.zk = s2Pack(b.bufs.zk, b.keys)
			b.js, b.keys, b.codec = b.bufs.z, b.bufs.zk, codecS2
		}
		c.blocks = append(c.blocks, b)
	}
	b := newBlock(first)
	for i := range recs {
		r := &recs[i]
		k := key(r)
		line, err := ce.line(r)
		if err != nil {
			return encodedChunk{err: fmt.Errorf("record %d: %w", first+i+1, err)}
		}
		k.jsonLen = len(line) - 1
		b.js = append(b.js, line...)
		b.keys = k.append(b.keys)
		if b.n == 0 {
			b.tmin, b.tmax = k.tStart, max(k.tStart, k.tEnd)
		} else {
			b.tmin = min(b.tmin, k.tStart)
			b.tmax = max(b.tmax, k.tStart, k.tEnd)
		}
		b.n++
		if len(b.js) >= blockBytes {
			done(b)
			b = newBlock(first + i + 1)
		}
	}
	if b.n > 0 {
		done(b)
	}
	c.geo = ce.geo
	return c
}
