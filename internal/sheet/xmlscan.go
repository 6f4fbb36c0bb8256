package sheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xlsxScanner is a byte-level scanner of the XML of the parts of a workbook.
// It knows just enough XML for them: tags and their attributes, text with
// the predefined and numeric character references, CDATA sections; it skips
// comments, processing instructions and declarations. It does not check
// that elements nest, which the readers above it check where it matters
// (the closing tags of a sheet). Element and attribute names are reported
// without their namespace prefix. It reads through a window that it reuses;
// the slices it returns are valid until the next call.
type xlsxScanner struct {
	src  io.Reader
	buf  []byte
	r, w int   // the unread bytes are buf[r:w]
	n    int64 // bytes read from src
	err  error // io.EOF at the end of src, or the read or syntax error

	// The last tag nextTag read, as offsets in buf (not slices, which would
	// cost a write barrier a tag while the garbage collector runs).
	name0, name1 int        // local name
	isEnd        bool       // an end tag
	empty        bool       // a self-closing start tag
	attrs        []xlsxAttr // attrs[:nattr]
	nattr        int
}

// xlsxAttr is an attribute of a tag: its local name is buf[name0:name1] and
// its value (not unescaped) buf[value0:value1].
type xlsxAttr struct {
	name0, name1, value0, value1 int
}

// name returns the local name of the last tag.
func (s *xlsxScanner) name() []byte { return s.buf[s.name0:s.name1] }

// attr returns the local name and the value of attribute i of the last tag.
func (s *xlsxScanner) attr(i int) (name, value []byte) {
	a := &s.attrs[i]
	return s.buf[a.name0:a.name1], s.buf[a.value0:a.value1]
}

// init makes s read src, whose size is about size bytes (which sizes the
// window: a small part needs no large one).
func (s *xlsxScanner) init(src io.Reader, size int64) {
	s.src = src
	s.buf = make([]byte, min(max(size+1, 4<<10), xlsxBufSize))
	s.attrs = make([]xlsxAttr, 8)
}

// errTextTooLong is the error of appendText for a text past its limit; the
// caller, which knows the limit, replaces it with a *LimitError.
var errTextTooLong = errors.New("xml: text longer than the limit")

// xlsxSyntaxError returns a syntax error wrapping ErrCorrupt.
func xlsxSyntaxError(format string, args ...any) error {
	return fmt.Errorf("xml: %s: %w", fmt.Sprintf(format, args...), ErrCorrupt)
}

// error returns the error that stopped s, wrapping ErrCorrupt for anything
// but a plain read error: a sudden end of the XML, damaged compressed data
// or a CRC mismatch.
func (s *xlsxScanner) error() error {
	err := s.err
	var flateErr flate.CorruptInputError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrLimit):
		return err
	case err == io.EOF:
		return xlsxSyntaxError("unexpected end of the XML")
	case errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &flateErr):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return fmt.Errorf("read: %w", err)
}

// more reads more of src into the window, keeping the unread bytes, and
// reports whether it read any. The window grows when it is full, up to
// xlsxMaxMarkup.
func (s *xlsxScanner) more() bool {
	if s.err != nil {
		return false
	}
	if s.r > 0 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	if s.w == len(s.buf) {
		if len(s.buf) >= xlsxMaxMarkup {
			s.err = xlsxSyntaxError("markup longer than %d bytes", xlsxMaxMarkup)
			return false
		}
		b := make([]byte, 2*len(s.buf))
		copy(b, s.buf[:s.w])
		s.buf = b
	}
	for range 100 {
		n, err := s.src.Read(s.buf[s.w:])
		s.w += n
		s.n += int64(n)
		if err != nil {
			s.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// drain reads src to its end and reports whether it ended without an error.
func (s *xlsxScanner) drain() bool {
	for {
		s.r = s.w
		if !s.more() {
			return s.err == io.EOF
		}
	}
}

// Results of markup.
const (
	xlsxTag     = iota // a start or end tag
	xlsxSkipped        // a comment, processing instruction or declaration
	xlsxShort          // the window ends inside the markup
	xlsxBad            // not well-formed; s.err is set
)

// nextTag reads up to the end of the next start or end tag, skipping text
// and other markup, and reports whether there was one. When it returns
// false, s.err is io.EOF at the end of the input, or the error.
func (s *xlsxScanner) nextTag() bool {
	for {
		i := 0
		if s.r == s.w || s.buf[s.r] != '<' {
			i = bytes.IndexByte(s.buf[s.r:s.w], '<')
		}
		if i < 0 {
			s.r = s.w
			if !s.more() {
				return false
			}
			continue
		}
		s.r += i
		switch s.markup() {
		case xlsxTag:
			return true
		case xlsxShort:
			if !s.more() {
				if s.err == io.EOF {
					s.err = xlsxSyntaxError("unexpected end of the XML")
				}
				return false
			}
		case xlsxBad:
			return false
		}
	}
}

// isSpace reports whether c is XML white space.
func xlsxIsSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// Classes of bytes in a tag.
const (
	xlsxNameByte = iota // part of a name
	xlsxNameEnd         // white space, '=', '/' or '>': ends a name
	xlsxColon           // ':' ends a namespace prefix
)

// xlsxClass is the class of each byte in a tag.
var xlsxClass = [256]uint8{
	' ': xlsxNameEnd, '\t': xlsxNameEnd, '\n': xlsxNameEnd, '\r': xlsxNameEnd,
	'=': xlsxNameEnd, '/': xlsxNameEnd, '>': xlsxNameEnd, ':': xlsxColon,
}

// xlsxName returns where the name at b[p] ends, and where its local part
// (after any prefix) starts.
func xlsxName(b []byte, p int) (end, local int) {
	local = p
	for p < len(b) {
		k := xlsxClass[b[p]]
		if k == xlsxNameByte {
			p++
			continue
		}
		if k != xlsxColon {
			break
		}
		p++
		local = p
	}
	return p, local
}

// markup reads the markup at s.buf[s.r] ('<') when it is all in the window.
func (s *xlsxScanner) markup() int {
	b := s.buf[s.r:s.w]
	if len(b) < 2 {
		return xlsxShort
	}
	switch b[1] {
	case '/':
		p, local := xlsxName(b, 2)
		name := b[local:p]
		for ; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p == len(b) {
			return xlsxShort
		}
		if b[p] != '>' || len(name) == 0 {
			s.err = xlsxSyntaxError("malformed end tag %.20q", b[:p+1])
			return xlsxBad
		}
		s.name0, s.name1, s.isEnd, s.empty, s.nattr = s.r+local, s.r+local+len(name), true, false, 0
		s.r += p + 1
		return xlsxTag
	case '?':
		i := bytes.Index(b[2:], []byte("?>"))
		if i < 0 {
			return xlsxShort
		}
		s.r += 2 + i + 2
		return xlsxSkipped
	case '!':
		return s.declaration(b)
	}
	p, local := xlsxName(b, 1)
	if p == len(b) {
		return xlsxShort
	}
	name := b[local:p]
	if len(name) == 0 {
		s.err = xlsxSyntaxError("malformed tag %.20q", b[:p+1])
		return xlsxBad
	}
	nattr := 0
	empty := false
	for {
		for ; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p == len(b) {
			return xlsxShort
		}
		c := b[p]
		if c == '>' {
			p++
			break
		}
		if c == '/' {
			if p+1 == len(b) {
				return xlsxShort
			}
			if b[p+1] != '>' {
				s.err = xlsxSyntaxError("malformed tag %.20q", b[:p+2])
				return xlsxBad
			}
			p += 2
			empty = true
			break
		}
		n0 := p
		var nl int
		p, nl = xlsxName(b, p)
		an := b[nl:p]
		for ; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p+1 >= len(b) {
			return xlsxShort
		}
		if len(an) == 0 || b[p] != '=' {
			s.err = xlsxSyntaxError("malformed attribute in %.40q", b[n0:p+1])
			return xlsxBad
		}
		for p++; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p == len(b) {
			return xlsxShort
		}
		q := b[p]
		if q != '"' && q != '\'' {
			s.err = xlsxSyntaxError("unquoted attribute value in %.40q", b[:p+1])
			return xlsxBad
		}
		p++
		v := p
		// Values are short: a loop beats IndexByte.
		for p < len(b) && b[p] != q {
			p++
		}
		if p == len(b) {
			return xlsxShort
		}
		a := xlsxAttr{s.r + nl, s.r + nl + len(an), s.r + v, s.r + p}
		if nattr < len(s.attrs) {
			s.attrs[nattr] = a
		} else {
			s.attrs = append(s.attrs, a)
		}
		nattr++
		p++
	}
	s.name0, s.name1, s.isEnd, s.empty, s.nattr = s.r+local, s.r+local+len(name), false, empty, nattr
	s.r += p
	return xlsxTag
}

// declaration skips the comment, CDATA section (outside text) or
// declaration (<!DOCTYPE ...>) that starts b.
func (s *xlsxScanner) declaration(b []byte) int {
	var end string
	switch {
	case bytes.HasPrefix(b, []byte("<!--")):
		b, end = b[4:], "-->"
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		b, end = b[9:], "]]>"
	case len(b) < 9 && (bytes.HasPrefix([]byte("<!--"), b) || bytes.HasPrefix([]byte("<![CDATA["), b)):
		return xlsxShort
	default:
		// A declaration, perhaps with an internal subset in brackets.
		depth := 0
		for p := 2; p < len(b); p++ {
			switch b[p] {
			case '[':
				depth++
			case ']':
				depth--
			case '>':
				if depth <= 0 {
					s.r += p + 1
					return xlsxSkipped
				}
			}
		}
		return xlsxShort
	}
	i := bytes.Index(b, []byte(end))
	if i < 0 {
		return xlsxShort
	}
	s.r = s.w - len(b) + i + len(end)
	return xlsxSkipped
}

// attrValue returns the value of the last tag's attribute of local name
// name.
func (s *xlsxScanner) attrValue(name string) ([]byte, bool) {
	for i := range s.nattr {
		if n, v := s.attr(i); string(n) == name {
			return v, true
		}
	}
	return nil, false
}

// skip reads lit when the input goes on with it, and reports whether it
// did.
func (s *xlsxScanner) skip(lit string) bool {
	if s.w-s.r < len(lit) && !s.ensure(len(lit)) {
		return false
	}
	if string(s.buf[s.r:s.r+len(lit)]) != lit {
		return false
	}
	s.r += len(lit)
	return true
}

// ensure makes at least n unread bytes available when the input has them,
// and reports whether it does.
func (s *xlsxScanner) ensure(n int) bool {
	for s.w-s.r < n {
		if !s.more() {
			return false
		}
	}
	return true
}

// appendText appends to dst the text up to the next tag, with character
// references decoded, CDATA sections taken as they are, comments left out
// and line breaks normalised to \n, and returns it; the next tag is left
// unread. It returns false when the text would make dst longer than limit
// (s.err is then errTextTooLong), or on a syntax or read error (s.err says
// which).
func (s *xlsxScanner) appendText(dst []byte, limit int) ([]byte, bool) {
	for {
		b := s.buf[s.r:s.w]
		i := 0
		for ; i < len(b); i++ {
			if c := b[i]; c == '<' || c == '&' || c == '\r' {
				break
			}
		}
		if len(dst)+i > limit {
			s.err = errTextTooLong
			return dst, false
		}
		dst = append(dst, b[:i]...)
		s.r += i
		if i == len(b) {
			if !s.more() {
				if s.err == io.EOF {
					s.err = xlsxSyntaxError("unexpected end of the XML")
				}
				return dst, false
			}
			continue
		}
		switch b[i] {
		case '<':
			if i+1 < len(b) && b[i+1] != '!' {
				return dst, true // a tag: the common case
			}
			if !s.ensure(9) && s.err != io.EOF {
				return dst, false
			}
			b = s.buf[s.r:s.w]
			switch {
			case bytes.HasPrefix(b, []byte("<![CDATA[")):
				var ok bool
				if dst, ok = s.appendCDATA(dst, limit); !ok {
					return dst, false
				}
			case bytes.HasPrefix(b, []byte("<!--")):
				switch s.markup() {
				case xlsxShort:
					if !s.more() {
						if s.err == io.EOF {
							s.err = xlsxSyntaxError("unexpected end of the XML")
						}
						return dst, false
					}
				case xlsxBad:
					return dst, false
				}
			default:
				return dst, true
			}
		case '&':
			var ok bool
			if dst, ok = s.appendReference(dst); !ok {
				return dst, false
			}
		case '\r':
			// \r\n and a lone \r both read as \n.
			if !s.ensure(2) && s.err != io.EOF {
				return dst, false
			}
			s.r++
			if s.r < s.w && s.buf[s.r] == '\n' {
				s.r++
			}
			dst = append(dst, '\n')
		}
	}
}

// appendCDATA appends the content of the CDATA section at s.buf[s.r] to dst.
func (s *xlsxScanner) appendCDATA(dst []byte, limit int) ([]byte, bool) {
	s.r += len("<![CDATA[")
	for {
		b := s.buf[s.r:s.w]
		if i := bytes.Index(b, []byte("]]>")); i >= 0 {
			if len(dst)+i > limit {
				s.err = errTextTooLong
				return dst, false
			}
			s.r += i + 3
			return append(dst, b[:i]...), true
		}
		// Keep back what may be the start of "]]>".
		k := max(len(b)-2, 0)
		if len(dst)+k > limit {
			s.err = errTextTooLong
			return dst, false
		}
		dst = append(dst, b[:k]...)
		s.r += k
		if !s.more() {
			if s.err == io.EOF {
				s.err = xlsxSyntaxError("unexpected end of the XML in a CDATA section")
			}
			return dst, false
		}
	}
}

// appendReference appends the character that the reference at s.buf[s.r]
// ('&') stands for to dst.
func (s *xlsxScanner) appendReference(dst []byte) ([]byte, bool) {
	const longest = len("&#x10FFFF;")
	if !s.ensure(longest) && s.err != io.EOF {
		return dst, false
	}
	b := s.buf[s.r:min(s.w, s.r+longest+1)]
	i := bytes.IndexByte(b, ';')
	if i < 0 {
		s.err = xlsxSyntaxError("malformed character reference %q", b)
		return dst, false
	}
	ref := b[1:i]
	s.r += i + 1
	switch string(ref) {
	case "amp":
		return append(dst, '&'), true
	case "lt":
		return append(dst, '<'), true
	case "gt":
		return append(dst, '>'), true
	case "quot":
		return append(dst, '"'), true
	case "apos":
		return append(dst, '\''), true
	}
	if len(ref) > 1 && ref[0] == '#' {
		var (
			v   uint64
			err error
		)
		if ref[1] == 'x' {
			v, err = strconv.ParseUint(string(ref[2:]), 16, 32)
		} else {
			v, err = strconv.ParseUint(string(ref[1:]), 10, 32)
		}
		if err == nil && utf8.ValidRune(rune(v)) {
			return utf8.AppendRune(dst, rune(v)), true
		}
	}
	s.err = xlsxSyntaxError("unknown character reference %q", b[:i+1])
	return dst, false
}
