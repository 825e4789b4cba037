// Package payoutfile makes payout CSV files as a merchant's finance staff
// save them from Excel, and a week of earlier payouts to go with them, so
// that the upload benchmark and the measurement of the built program read
// what users send against a database that has a past: Chinese names,
// banks by code and by Chinese name, provinces and cities in Chinese,
// amounts such as "1,234.50", account numbers in no order, payees paid
// again, CRLF line ends, GBK or UTF-8 with a BOM.
package payoutfile

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
)

// Sizes of what is made.
const (
	Rows           = 100_000 // data rows of a file: the upload limit
	HistoryPayouts = 100_000 // payouts of the 7 days before
	historyPayees  = 80_000  // distinct payees of those: a fifth were paid twice
	historyDays    = 7
)

// Shares of a file's rows, in thousandths. A row pays a payee of the week
// before (in one row of ten with the amount paid then, which a warning
// names), repeats a payee of an earlier row of the file (half of them with
// the same amount, which a warning names too), or pays a new payee. One row
// in 2,000 has an error Excel users make: an amount with three decimals,
// or an account number Excel turned into 6.22202E+18.
const (
	repeatInFile = 20
	payeeOfWeek  = 600
	errorEvery   = 2000
)

// Encodings of File.
const (
	GBK  = "gbk"   // what Excel writes on Chinese Windows ("CSV (Comma delimited)")
	UTF8 = "utf-8" // Excel's "CSV UTF-8": with a BOM
)

// Header is the template's header row, as a file based on it has.
var Header = []string{"账户名/account_name", "账号/account_no", "金额(元)/amount", "银行代码/bank_code", "银行名称/bank_name",
	"开户支行/branch", "省份/province", "城市/city", "账户类型/account_type", "对公对私/account_attr", "联行号/bank_type",
	"扩展参数1/param1", "扩展参数2/param2", "商户代付单号/mch_trans_order_no"}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文斌浩宇欣怡子涵梓轩思雨佳琪俊峰海燕晓东春林雪婷鹏飞辉丹凤琳慧颖晨阳博宁欢")
	places   = [][2]string{{"广东", "深圳"}, {"广东", "广州"}, {"广东", "东莞"}, {"北京", "北京"}, {"上海", "上海"}, {"浙江", "杭州"},
		{"浙江", "宁波"}, {"江苏", "南京"}, {"江苏", "苏州"}, {"四川", "成都"}, {"湖北", "武汉"}, {"山东", "济南"}, {"山东", "青岛"},
		{"河南", "郑州"}, {"福建", "厦门"}, {"湖南", "长沙"}, {"陕西", "西安"}, {"重庆", "重庆"}, {"天津", "天津"}, {"辽宁", "沈阳"},
		{"安徽", "合肥"}, {"河北", "石家庄"}, {"江西", "南昌"}, {"云南", "昆明"}}
	branches = []string{"分行", "营业部", "城东支行", "城西支行", "高新区支行", "开发区支行", "人民路支行", "中山路支行"}
)

// banks are the banks payees have: the big ones most of the time. Banks
// whose name has two codes, and the central bank, are left out.
func banks() (big, other []payments.Bank) {
	for _, b := range payments.Banks() {
		switch {
		case b.Code == "HPT00034" || b.Code == "HPT00073" || b.Code == "HPT00040":
		case b.Code <= "HPT00011" || b.Code >= "HPT00022" && b.Code <= "HPT00028":
			big = append(big, b)
		default:
			other = append(other, b)
		}
	}
	return big, other
}

// payee is one person or company paid, fixed by its number.
type payee struct {
	name, accountNo string
	bank            payments.Bank
	province, city  string
	branch          string
	corporate       bool
	amount          int64 // fen: what it is usually paid
}

func newPayee(i int, big, other []payments.Bank) payee {
	r := rand.New(rand.NewPCG(uint64(i), 0x9e3779b97f4a7c15))
	var p payee
	place := places[r.IntN(len(places))]
	p.province, p.city = place[0], place[1]
	if place[0] != place[1] {
		p.province += "省"
	}
	p.city += "市"
	if r.IntN(100) < 85 {
		p.bank = big[r.IntN(len(big))]
	} else {
		p.bank = other[r.IntN(len(other))]
	}
	p.branch = p.bank.Name + place[1] + branches[r.IntN(len(branches))]
	if r.IntN(100) < 3 {
		p.corporate = true
		p.name = place[1] + string(given[r.IntN(len(given))]) + string(given[r.IntN(len(given))]) + "科技有限公司"
	} else {
		p.name = string(surnames[r.IntN(len(surnames))]) + string(given[r.IntN(len(given))])
		if r.IntN(3) > 0 {
			p.name += string(given[r.IntN(len(given))])
		}
	}
	// Account numbers are unrelated to the order payees come in.
	p.accountNo = fmt.Sprintf("62%017d", mix(uint64(i))%100_000_000_000_000_000)
	// From 50 yuan to 30,000 yuan, most below 5,000; half in whole yuan.
	yuan := int64(50 + r.ExpFloat64()*2500)
	p.amount = min(yuan, 30_000) * 100
	if r.IntN(2) == 0 {
		p.amount += r.Int64N(100)
	}
	return p
}

// mix is splitmix64's finaliser: a bijection that scatters consecutive
// numbers.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// historyPayout is the k-th payout of the week before: payee k mod
// historyPayees, its usual amount the first time and a different one the
// second.
func historyPayout(k int, big, other []payments.Bank) (payee, int64) {
	p := newPayee(k%historyPayees, big, other)
	if k >= historyPayees {
		return p, p.amount + 1_000
	}
	return p, p.amount
}

// Stats tells what a file holds.
type Stats struct {
	Rows          int
	ErrorRows     int // rows the upload must refuse
	TwinsInFile   int // rows with the account number and amount of an earlier row
	PayeesOfWeek  int // rows paying a payee of the week before
	AmountsOfWeek int // of those, with the amount paid then
}

// File makes a payout file of Rows rows in enc (GBK or UTF8).
func File(enc string) ([]byte, Stats, error) {
	big, other := banks()
	r := rand.New(rand.NewPCG(2026, 11))
	var buf bytes.Buffer
	if enc == UTF8 {
		buf.WriteString("\ufeff")
	}
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write(Header)
	type sent struct {
		p      payee
		amount int64
	}
	rows := make([]sent, 0, Rows)
	var st Stats
	for i := range Rows {
		var p payee
		var amount int64
		switch u := r.IntN(1000); {
		case u < repeatInFile && i > 0:
			prev := rows[r.IntN(i)]
			p, amount = prev.p, prev.amount+100*(1+r.Int64N(50))
			if r.IntN(2) == 0 {
				amount = prev.amount
				st.TwinsInFile++
			}
		case u < repeatInFile+payeeOfWeek:
			k := r.IntN(historyPayees)
			p, amount = historyPayout(k, big, other)
			st.PayeesOfWeek++
			if r.IntN(10) == 0 {
				st.AmountsOfWeek++
			} else {
				amount += 100 * (1 + r.Int64N(200))
			}
		default:
			p = newPayee(1_000_000+i, big, other)
			amount = p.amount
		}
		rows = append(rows, sent{p, amount})
		code, name := p.bank.Code, ""
		if r.IntN(2) == 0 {
			code, name = "", p.bank.Name
		}
		attr, accountType := "对私", ""
		if p.corporate {
			attr = "对公"
		}
		if r.IntN(4) == 0 {
			accountType = "银行卡"
		}
		param1 := ""
		if r.IntN(2) == 0 {
			param1 = "U" + strconv.Itoa(100_000+r.IntN(900_000))
		}
		amountText, accountNo := money.Grouped(amount), p.accountNo
		if i%errorEvery == errorEvery-1 {
			st.ErrorRows++
			if i%(2*errorEvery) == errorEvery-1 {
				amountText += "5" // three decimals
			} else {
				accountNo = accountNo[:1] + "." + accountNo[1:6] + "E+18"
			}
		}
		w.Write([]string{p.name, accountNo, amountText, code, name, p.branch, p.province, p.city, accountType, attr, "", param1, "", ""})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, st, err
	}
	st.Rows = Rows
	if enc == UTF8 {
		return buf.Bytes(), st, nil
	}
	data, err := simplifiedchinese.GBK.NewEncoder().Bytes(buf.Bytes())
	return data, st, err
}

// SeedHistory stores the week before now's payouts for account: one batch
// of about 14,300 payouts a day, made by li.na and approved; the newest
// still awaiting approval, the others sent, mostly paid (one in 40
// failed, one in 97 refused). Their payees are the ones File pays again.
func SeedHistory(ctx context.Context, db *store.DB, accountID int64, now time.Time) error {
	big, other := banks()
	perDay := (HistoryPayouts + historyDays - 1) / historyDays
	for day := range historyDays {
		first, last := day*perDay, min((day+1)*perDay, HistoryPayouts)
		state, batchState := store.PayoutSubmitted, store.BatchApproved
		if day == historyDays-1 {
			state, batchState = store.PayoutAwaitingApproval, store.BatchAwaitingApproval
		}
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			id, err := db.CreateBatchTx(ctx, tx, store.Batch{AccountID: accountID, Kind: store.BatchCSV, FileName: fmt.Sprintf("day%d.csv", day+1),
				Encoding: "GBK", State: batchState, FileRows: last - first, TwoPerson: true, CreatedBy: "li.na"})
			if err != nil {
				return err
			}
			bw, err := db.NewBatchWriter(ctx, tx)
			if err != nil {
				return err
			}
			defer bw.Close()
			for k := first; k < last; k++ {
				p, amount := historyPayout(k, big, other)
				attr := "0"
				if p.corporate {
					attr = "1"
				}
				err := bw.Payout(ctx, store.Payout{AccountID: accountID, BatchID: id, RowNo: k - first + 2, MchTransOrderNo: fmt.Sprintf("H%d", k),
					Amount: amount, AccountName: p.name, AccountNo: p.accountNo, BankCode: p.bank.Code, BankName: p.branch,
					Province: p.province, City: p.city, AccountType: "1", AccountAttr: attr, State: state, CreatedBy: "li.na"})
				if err != nil {
					return err
				}
			}
			if err := bw.Flush(ctx); err != nil {
				return err
			}
			bw.Close()
			// Eight hours of each day, from 7 days ago (plus an hour, so
			// that all of them are still within 7 days for an hour) to
			// yesterday.
			start := now.Add(-time.Duration(historyDays-day)*24*time.Hour + time.Hour)
			created := func(row int) string {
				return start.Add(time.Duration(row) * 8 * time.Hour / time.Duration(perDay)).UTC().Format("2006-01-02T15:04:05.000000000Z")
			}
			st, err := tx.PrepareContext(ctx, `UPDATE payouts SET created_at = ?, updated_at = ?,
				status = CASE WHEN state = 'submitted' AND row_no % 97 <> 0 THEN (CASE WHEN row_no % 40 = 0 THEN 3 ELSE 2 END) END,
				state = CASE WHEN state = 'submitted' AND row_no % 97 = 0 THEN 'refused' ELSE state END
				WHERE batch_id = ? AND row_no = ?`)
			if err != nil {
				return err
			}
			defer st.Close()
			for row := 2; row < last-first+2; row++ {
				at := created(row)
				if _, err := st.ExecContext(ctx, at, at, id, row); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, `UPDATE payout_batches SET created_at = ?, updated_at = ? WHERE id = ?`, created(0), created(0), id)
			return err
		})
		if err != nil {
			return fmt.Errorf("seed day %d: %w", day+1, err)
		}
	}
	return nil
}
