package web

import "time"

// parseDay reads a date typed as 2026-11-26, in the console's zone. With
// end it gives the start of the following day, so that a "to" date takes in
// the whole day. An empty value is the zero time.
func (s *Server) parseDay(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, s.loc)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
