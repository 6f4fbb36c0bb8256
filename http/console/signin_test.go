package console

import "testing"

func TestSafeNext(t *testing.T) {
	tests := []struct{ next, want string }{
		{"/console/operators", "/console/operators"},
		{"/console/batches?carrier=a&b=c", "/console/batches?carrier=a&b=c"},
		{"", Prefix},
		{"https://evil.example/", Prefix},
		{"//evil.example/console/", Prefix},
		{"/\\evil.example", Prefix},
		{"/console/\r\nSet-Cookie: x=y", Prefix},
		{"/admin/v1/carriers", Prefix},
		{"/console/login?next=/console/", Prefix},
	}
	for _, tt := range tests {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}
