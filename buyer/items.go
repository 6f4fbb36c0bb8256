package buyer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/trueup/trueup"
)

// entry is one element of a launch's body as sent.
type entry struct {
	TransactionID *string         `json:"transaction_id"`
	ChangeReason  json.RawMessage `json:"change_reason"`
}

// DecodeItems reads a launch's body: a JSON array of objects with a string
// transaction_id and an optional change_reason (other keys are ignored; a
// change_reason that is not a string counts as any unknown reason,
// Respondent Quality). It returns an EINVALID *trueup.Error
// naming the entry for anything else (not JSON, not an
// array, an entry that is not an object or lacks a string transaction_id,
// data after the array), ETOOLARGE past MaxItems entries, and the reader's
// own error, wrapped, when reading fails. An empty array gives no items and
// no error: Launch refuses it.
func DecodeItems(r io.Reader) ([]Item, error) {
	dec := json.NewDecoder(r)
	invalid := func(format string, args ...any) error {
		return trueup.Errorf(trueup.EINVALID, format+`; send a JSON array such as [{"transaction_id": "7lNK5AGrSL3bk5tV4gw0Tr", "change_reason": "Suspected Fraud"}]`, args...)
	}
	tok, err := dec.Token()
	if err != nil {
		if syntaxError(err) || errors.Is(err, io.EOF) {
			return nil, invalid("the body is not JSON (%v)", err)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, invalid("the body is not a JSON array")
	}
	items := []Item{}
	for n := 1; dec.More(); n++ {
		if n > MaxItems {
			return nil, trueup.Errorf(trueup.ETOOLARGE, "the list has more than %d entries; split it into several processes", MaxItems)
		}
		var e entry
		if err := dec.Decode(&e); err != nil {
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te) && te.Field == "transaction_id":
				return nil, invalid("entry %d: transaction_id is a %s, not a string", n, te.Value)
			case errors.As(err, &te):
				return nil, invalid("entry %d is a %s, not an object", n, te.Value)
			case syntaxError(err):
				return nil, invalid("entry %d is not valid JSON (%v)", n, err)
			}
			return nil, fmt.Errorf("read body: %w", err)
		}
		if e.TransactionID == nil {
			return nil, invalid("entry %d has no transaction_id", n)
		}
		var reason string
		if len(e.ChangeReason) > 0 {
			_ = json.Unmarshal(e.ChangeReason, &reason) // not a string: an unknown reason
		}
		items = append(items, Item{TransactionID: *e.TransactionID, Reason: ChangeReason(reason)})
	}
	if _, err := dec.Token(); err != nil {
		if syntaxError(err) || errors.Is(err, io.EOF) {
			return nil, invalid("the array is not closed (%v)", err)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil || syntaxError(err) {
			return nil, invalid("the body has data after the array")
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return items, nil
}

func syntaxError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF)
}
