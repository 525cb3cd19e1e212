package enrich

import (
	"encoding/binary"
	"sync"
)

// cacheKey identifies a lookup: the address (zone dropped), the era of
// snapshot builds in force, and the day of the lookup time when snapshot
// distances are recorded (noDay otherwise).
type cacheKey struct {
	addr [16]byte
	is4  bool
	era  int32
	day  int32
}

const cacheShards = 64

// cache is a sharded map from lookup to record. Records are immutable
// once stored. A full shard is emptied rather than evicted entry by
// entry: the cache only saves time, it never changes an answer.
type cache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[cacheKey]*Record
	_  [40]byte // keep shards on separate cache lines
}

func newCache(size int) *cache {
	c := &cache{perShard: max(size/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[cacheKey]*Record)
	}
	return c
}

func (c *cache) shard(k *cacheKey) *cacheShard {
	h := binary.LittleEndian.Uint64(k.addr[8:]) ^ binary.LittleEndian.Uint64(k.addr[:8])*0x9e3779b97f4a7c15
	h ^= uint64(uint32(k.day)) * 0xc2b2ae3d27d4eb4f
	h *= 0x9e3779b97f4a7c15
	return &c.shards[h>>(64-6)]
}

// get returns the cached record, shared: callers must not modify it.
func (c *cache) get(k cacheKey) (*Record, bool) {
	s := c.shard(&k)
	s.mu.RLock()
	r, ok := s.m[k]
	s.mu.RUnlock()
	return r, ok
}

func (c *cache) put(k cacheKey, r *Record) {
	s := c.shard(&k)
	s.mu.Lock()
	if len(s.m) >= c.perShard {
		clear(s.m)
	}
	s.m[k] = r
	s.mu.Unlock()
}
