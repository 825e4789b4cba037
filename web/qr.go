package web

import (
	"bytes"
	"fmt"
	"net/http"

	qrcode "github.com/skip2/go-qrcode"
)

// qrPNG is a QR code of text as a PNG of size×size pixels.
func qrPNG(text string, size int) ([]byte, error) {
	return qrcode.Encode(text, qrcode.Medium, size)
}

// qrSVG is a QR code of text as SVG: one path of unit squares on a white
// square, the quiet zone included, that scales to any size.
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap()
	n := len(bm)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n*8, n*8, n, n)
	for y, row := range bm {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			// One run of dark modules per rectangle keeps the file small.
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return b.Bytes(), nil
}

// writeQR answers a QR code of text as PNG or SVG; download asks the
// browser to save it under name.
func writeQR(w http.ResponseWriter, r *http.Request, text, format, name string) error {
	var body []byte
	var err error
	switch format {
	case "svg":
		body, err = qrSVG(text)
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		body, err = qrPNG(text, 512)
		w.Header().Set("Content-Type", "image/png")
	}
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	}
	_, err = w.Write(body)
	return err
}
