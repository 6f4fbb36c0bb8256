package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/trueup/trueup"
)

// TestGiveUpMessage checks what a carrier reads about a batch whose check
// was given up: the reason in words, never the internal cause.
func TestGiveUpMessage(t *testing.T) {
	tests := []struct {
		name  string
		cause error
		want  string
	}{
		{"client error", trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "the file is damaged"), "the file is damaged"},
		{"upload missing", fmt.Errorf("open upload of batch 1: %w", fs.ErrNotExist), "no longer stored"},
		{"worker lost", fmt.Errorf("claim: %w", &trueup.JobLostError{Times: 10}), "interrupted 10 times"},
		{"internal fault", errors.New("pq: relation batches is locked at /srv/data"), "fault of trueup's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := giveUpMessage(tt.cause)
			if !strings.Contains(got, tt.want) {
				t.Errorf("giveUpMessage(%v) = %q, want it to say %q", tt.cause, got, tt.want)
			}
			if trueup.ErrorKind(tt.cause) == trueup.EINTERNAL && strings.Contains(got, tt.cause.Error()) {
				t.Errorf("giveUpMessage shows the internal cause: %q", got)
			}
		})
	}
}
