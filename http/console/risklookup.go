package console

import (
	"net/http"
	"strconv"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/risk"
)

func (h *Handler) riskLookupRoutes() {
	h.page("GET "+Prefix+"risk-lookup", operator.RoleOperator, h.riskLookup)
	h.page("POST "+Prefix+"risk-lookup", operator.RoleOperator, h.riskLookupPost)
	h.nav("Risk look-up", Prefix+"risk-lookup", operator.RoleOperator, 70)
}

// riskLookupData is the look-up page's data. The number typed is never
// put back in the page, the URL, a log or the database: only its MD5.
type riskLookupData struct {
	Sources []risk.Source
	Source  risk.Source
	From    string
	To      string
	Done    bool
	Mobile  string // the MD5 looked up
	Records []riskRecordRow
}

// riskRecordRow is a record as the page shows it.
type riskRecordRow struct {
	Day      string
	Source   string
	CID      string
	Duration string
	Level    string
}

func (h *Handler) riskLookup(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, "risklookup", riskLookupData{Sources: []risk.Source{risk.SourceSeat, risk.SourceVoice, risk.SourceSMS}})
}

// riskLookupPost looks the posted number up. It is a POST so that the
// number is in no URL, hence in no access log or browser history.
func (h *Handler) riskLookupPost(w http.ResponseWriter, r *http.Request) {
	d := riskLookupData{Sources: []risk.Source{risk.SourceSeat, risk.SourceVoice, risk.SourceSMS}, From: formText(r, "from"), To: formText(r, "to")}
	p := risk.LookupParams{Mobile: r.PostFormValue("mobile")}
	err := func() error {
		if s := formText(r, "source"); s != "" {
			src, ok := risk.ParseSource(s)
			if !ok {
				return trueup.Errorf(trueup.EINVALID, "source %q is unknown; pick seat, voice, sms or every source", s)
			}
			p.Source, d.Source = src, src
		}
		var ok bool
		if d.From != "" {
			if p.From, ok = risk.ParseDay(d.From); !ok {
				return trueup.Errorf(trueup.EINVALID, "first day %q is not a date; type YYYY-MM-DD, such as 2022-10-03, or leave it empty", d.From)
			}
		}
		if d.To != "" {
			if p.To, ok = risk.ParseDay(d.To); !ok {
				return trueup.Errorf(trueup.EINVALID, "last day %q is not a date; type YYYY-MM-DD, such as 2022-10-03, or leave it empty", d.To)
			}
		} else if d.From != "" {
			p.To = risk.DayOf(h.Clock.Now().AddDate(100, 0, 0))
		}
		res, err := h.Risk.Lookup(r.Context(), p)
		if err != nil {
			return err
		}
		d.Done, d.Mobile = true, res.Mobile.String()
		for _, rec := range res.Records {
			row := riskRecordRow{Day: rec.Day.String(), Source: rec.Source.String(), CID: rec.CID, Level: levelName(rec.Level)}
			if rec.HasDuration {
				row.Duration = formatSeconds(rec.Duration)
			}
			d.Records = append(d.Records, row)
		}
		return nil
	}()
	if err != nil {
		h.renderError(w, r, "risklookup", d, err)
		return
	}
	h.render(w, r, "risklookup", d)
}

// levelName names a risk level of seed 003.
func levelName(l risk.Level) string {
	switch l {
	case risk.LevelWhitelist:
		return "1 whitelist"
	case risk.LevelSecondaryWhitelist:
		return "2 secondary whitelist"
	case risk.LevelNormal:
		return "3 normal"
	case risk.LevelGreylist:
		return "4 greylist"
	case risk.LevelBlacklist:
		return "5 blacklist"
	}
	return ""
}

func formatSeconds(n int64) string {
	return strconv.FormatInt(n, 10) + " s"
}
