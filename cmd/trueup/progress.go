package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressBar draws a one-line bar on a terminal and nothing elsewhere.
type progressBar struct {
	w     io.Writer
	on    bool
	label string
	start time.Time
	mu    sync.Mutex
	last  time.Time
}

func newProgressBar(w io.Writer, label string) *progressBar {
	on := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		on = true
	}
	return &progressBar{w: w, on: on, label: label, start: time.Now()}
}

// Set draws the bar at fraction (0 to 1) with the rows read so far.
func (p *progressBar) Set(fraction float64, rows int64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && fraction < 1 {
		return
	}
	p.last = time.Now()
	fraction = max(0, min(1, fraction))
	const width = 30
	n := int(fraction * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d rows %s", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n),
		fraction*100, rows, time.Since(p.start).Round(100*time.Millisecond))
}

// Done ends the bar's line.
func (p *progressBar) Done() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}
