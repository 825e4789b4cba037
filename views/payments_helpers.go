package views

import "strconv"

func idText(n int64) string { return strconv.FormatInt(n, 10) }
