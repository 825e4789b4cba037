package payoutcsv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// names is a file's worth of rows with Chinese names, cities and banks;
// row i+2 is names[i] (the header is row 1).
func chineseFile(n int) []string {
	surnames := []rune("张李王赵陈刘杨黄周吴徐孙马朱胡郭何高林罗")
	given := []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂")
	rows := make([]string, n)
	for i := range rows {
		name := string(surnames[i%len(surnames)]) + string(given[(i*7)%len(given)]) + string(given[(i*3+1)%len(given)])
		rows[i] = fmt.Sprintf("%s,62220202%011d,%d.00,中国建设银行,上海,上海", name, i, 1+i%9)
	}
	return rows
}

const chineseHeader = "户名,账号,金额,银行名称,省份,城市"

func join(rows []string) []byte {
	return []byte(chineseHeader + "\r\n" + strings.Join(rows, "\r\n") + "\r\n")
}

// wantFileError parses data, once in big reads and once a byte at a
// time (so that what is looked for falls across reads), and wants the
// refusal want.
func wantFileError(t *testing.T, data []byte, want string) {
	t.Helper()
	for _, r := range []io.ReadSeeker{bytes.NewReader(data), oneByte{bytes.NewReader(data)}} {
		_, err := Parse(r, func(*Row) error { return nil })
		var fe *FileError
		if !errors.As(err, &fe) || fe.Msg.String() != want {
			t.Fatalf("%T: error %v,\nwant %q", r, err, want)
		}
	}
}

type oneByte struct{ io.ReadSeeker }

func (r oneByte) Read(p []byte) (int, error) { return r.ReadSeeker.Read(p[:min(len(p), 1)]) }

// A UTF-8 file damaged in a few places is refused, naming the rows, and
// never read as GBK with every name garbled (张三 → 寮犱笁).
func TestUTF8WithStrayBytes(t *testing.T) {
	tests := []struct {
		name   string
		damage func(rows []string) // rows[0] is row 2
		want   string
	}{
		{"0xFF in a name", func(rows []string) { rows[1] = "\xff" + rows[1] },
			"The file is UTF-8 but row 3 contains bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again."},
		{"lone 0x80 in two rows", func(rows []string) {
			rows[1] = strings.Replace(rows[1], "上海", "上\x80海", 1)
			rows[15] = rows[15] + "\x80"
		}, "The file is UTF-8 but rows 3 and 17 contain bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again."},
		{"sequence cut short at the end of a row", func(rows []string) {
			city := "上海"
			rows[4] = rows[4][:len(rows[4])-len(city)] + city[:len(city)-1] // 海 loses its last byte
		}, "The file is UTF-8 but row 6 contains bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again."},
		{"sequence cut short in the middle of a row", func(rows []string) {
			rows[2] = strings.Replace(rows[2], "中国建设银行", "中国建\xe8\xae银行", 1)
		}, "The file is UTF-8 but row 4 contains bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again."},
		{"many rows", func(rows []string) {
			for i := 0; i < 14; i++ {
				rows[i*2] += "\xfe"
			}
		}, "The file is UTF-8 but rows 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 and 4 more contain bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := chineseFile(30)
			tt.damage(rows)
			data := join(rows)
			if utf8.Valid(data) {
				t.Fatal("the damaged file is still valid UTF-8")
			}
			wantFileError(t, data, tt.want)
			wantFileError(t, append([]byte("\xef\xbb\xbf"), data...), tt.want)
		})
	}
}

// Real GBK files are not valid UTF-8 and are read as GBK, also when some
// of their byte pairs or triples happen to be valid UTF-8.
func TestGBKWithUTF8LookingBytes(t *testing.T) {
	// 谢 is D0 BB in GBK, a valid two-byte UTF-8 sequence; 尧 (D2 A2) after
	// 浜 (E4 BA) gives E4 BA D2: not valid. 浜 before 啊 (B0 A1) gives
	// E4 BA B0, a valid three-byte sequence.
	rows := []string{
		"谢霆锋,6222020200000000001,1.00,中国建设银行,上海,上海",
		"浜啊,6222020200000000002,2.00,招商银行,广东,深圳",
		"张三,6222020200000000003,3.00,中国银行,北京,北京",
	}
	data := gbk(t, string(join(rows)))
	if utf8.Valid(data) {
		t.Fatal("the GBK file is valid UTF-8; the test needs one that is not")
	}
	var sc scan
	sc.count(data)
	if sc.long == 0 || !bytes.Contains(data, []byte{0xd0, 0xbb}) {
		t.Fatalf("the GBK file has no byte sequences valid as UTF-8: %+v", sc)
	}
	sum, got, err := parseAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Encoding != EncodingGBK || len(got) != 3 || got[0].AccountName != "谢霆锋" || got[1].AccountName != "浜啊" || got[2].City != "北京" {
		t.Fatalf("encoding %s, rows %+v", sum.Encoding, got)
	}
}

// A file that is GBK-looking but has bytes GBK does not take either is
// refused, naming the rows.
func TestNeitherUTF8NorGBK(t *testing.T) {
	rows := []string{
		"张三,6222020200000000001,1.00,中国建设银行,上海,上海",
		"李四,6222020200000000002,2.00,招商银行,广东,深圳",
		"王五,6222020200000000003,3.00,中国银行,北京,北京",
	}
	data := gbk(t, string(join(rows)))
	data = bytes.Replace(data, []byte("6222020200000000002"), []byte("62220202000000000\xff2"), 1)
	wantFileError(t, data, "The file is neither UTF-8 nor GBK: row 3 contains bytes that are not text in either. Save it again as UTF-8 (or as GBK) and upload it again.")

	// ASCII with a stray byte: nothing says UTF-8, and GBK has no 0xFF.
	ascii := []byte("account_name,account_no,amount,bank_code,province,city\nZhang San,6222,1.00,HPT00001,SH,SH\nLi Si,6223\xff,1.00,HPT00001,SH,SH\n")
	wantFileError(t, ascii, "The file is neither UTF-8 nor GBK: row 3 contains bytes that are not text in either. Save it again as UTF-8 (or as GBK) and upload it again.")

	// In the header.
	head := append(gbk(t, "户名"), 0xff)
	head = append(head, gbk(t, ",账号,金额,银行名称,省份,城市\nA,6222,1.00,中国银行,北京,北京\n")...)
	wantFileError(t, head, "The file is neither UTF-8 nor GBK: row 1 contains bytes that are not text in either. Save it again as UTF-8 (or as GBK) and upload it again.")
}

func TestPureASCII(t *testing.T) {
	sum, rows, err := parseAll(t, []byte(header+"Zhang San,6222020200112233445,1.00,HPT00001,,SH,SH\n"))
	if err != nil || sum.Encoding != EncodingUTF8 || len(rows) != 1 || rows[0].AccountName != "Zhang San" {
		t.Fatalf("%+v %+v %v", sum, rows, err)
	}
}

// The detection counts across the 64 KiB chunks it reads: a stray byte
// far into a long UTF-8 file is found and named.
func TestStrayByteLateInLongFile(t *testing.T) {
	rows := chineseFile(5000)
	rows[4000] = strings.Replace(rows[4000], "上海", "上\xff海", 1)
	data := join(rows)
	if len(data) < 200<<10 {
		t.Fatalf("file of %d bytes is too short", len(data))
	}
	wantFileError(t, data, "The file is UTF-8 but row 4002 contains bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again.")
}

func TestRowList(t *testing.T) {
	for _, tt := range []struct {
		rows []int
		more int
		want string
	}{
		{[]int{3, 17}, 0, "3 and 17"},
		{[]int{3, 5, 17}, 0, "3, 5 and 17"},
		{[]int{3, 5}, 2, "3, 5 and 2 more"},
	} {
		if got := rowList(tt.rows, tt.more); got != tt.want {
			t.Errorf("rowList(%v, %d) = %q, want %q", tt.rows, tt.more, got, tt.want)
		}
	}
}

func TestReplacementWatch(t *testing.T) {
	for _, in := range []string{"ab\ufffdcd", "\ufffd", "abc\ufffd"} {
		for size := 1; size <= 4; size++ {
			w := &replacementWatch{r: iotest.HalfReader(strings.NewReader(in))}
			if size == 1 {
				w.r = iotest.OneByteReader(strings.NewReader(in))
			}
			buf := make([]byte, size)
			for {
				if _, err := w.Read(buf); err != nil {
					break
				}
			}
			if !w.seen {
				t.Errorf("%q read %d at a time: U+FFFD not seen", in, size)
			}
		}
	}
	w := &replacementWatch{r: iotest.OneByteReader(strings.NewReader("\xef\xbf张三\xbd"))}
	io.ReadAll(w)
	if w.seen {
		t.Error("U+FFFD seen in text without it")
	}
}
