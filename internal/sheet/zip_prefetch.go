package sheet

import (
	"io"
)

// Chunks of a prefetched zip entry. Entries of up to xlsxPrefetchMin bytes
// are read directly.
const (
	xlsxPrefetchMin = 1 << 20
	xlsxChunkSize   = 128 << 10
	xlsxChunks      = 4
)

// xlsxPrefetch reads a zip entry ahead in a goroutine of its own, so that
// inflating the next chunks overlaps scanning this one (on two cores, the
// reader then takes little more time than inflating alone). It holds at
// most xlsxChunks chunks. Close must be called to stop the goroutine.
type xlsxPrefetch struct {
	full    chan xlsxChunk // chunks read, in order; the last has an error
	free    chan []byte    // chunks to fill
	stop    chan struct{}  // closed by Close
	exited  chan struct{}  // closed when the goroutine returns
	cur     xlsxChunk      // the chunk Read is returning
	off     int            // bytes of cur returned
	stopped bool
}

// xlsxChunk is a chunk of a prefetched zip entry and the error that ended
// the read (io.EOF at the end of the entry).
type xlsxChunk struct {
	b   []byte
	err error
}

// newXLSXPrefetch starts reading src ahead.
func newXLSXPrefetch(src io.Reader) *xlsxPrefetch {
	p := &xlsxPrefetch{
		full:   make(chan xlsxChunk, xlsxChunks),
		free:   make(chan []byte, xlsxChunks),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range xlsxChunks - 1 {
		p.free <- make([]byte, xlsxChunkSize)
	}
	p.cur.b = make([]byte, 0, xlsxChunkSize)
	go p.run(src)
	return p
}

// run fills free chunks from src and sends them on, until src fails or ends
// or Close is called.
func (p *xlsxPrefetch) run(src io.Reader) {
	defer close(p.exited)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n, idle := 0, 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = src.Read(buf[n:])
			n += k
			if idle++; k > 0 {
				idle = 0
			} else if idle == 100 && err == nil {
				err = io.ErrNoProgress
			}
		}
		select {
		case p.full <- xlsxChunk{buf[:n], err}:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read returns the next bytes read ahead, or the error that ended the
// entry. It must not be called after Close.
func (p *xlsxPrefetch) Read(b []byte) (int, error) {
	for p.off == len(p.cur.b) {
		if p.cur.err != nil {
			return 0, p.cur.err
		}
		p.free <- p.cur.b[:cap(p.cur.b)] // never blocks: free has room for every chunk
		p.cur, p.off = <-p.full, 0
	}
	n := copy(b, p.cur.b[p.off:])
	p.off += n
	return n, nil
}

// Close stops the goroutine and waits for it to return, so that the entry
// may be closed.
func (p *xlsxPrefetch) Close() {
	if !p.stopped {
		p.stopped = true
		close(p.stop)
		<-p.exited
	}
}
