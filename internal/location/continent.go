package location

import "strings"

// continents lists the ISO 3166 countries of each continent code (the
// continent codes of NetScaler's and MaxMind's databases; a country on
// two continents is on its usual one: Russia in EU, Turkey and Cyprus in
// AS).
var continents = map[string]string{
	"AF": "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
	"AN": "AQ BV GS HM TF",
	"AS": "AF AM AZ BH BD BT IO BN KH CN CX CC CY GE HK IN ID IR IQ IL JP JO KZ KP KR KW KG LA LB MO MY MV MN MM NP OM PK PS PH QA SA SG LK SY TW TJ TH TL TR TM AE UZ VN YE",
	"EU": "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG VA HU IS IE IM IT JE XK LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB",
	"NA": "AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN LC MF PM VC SX TT TC US VI UM",
	"OC": "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF",
	"SA": "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
}

var continentOf = func() map[string]string {
	m := map[string]string{}
	for c, list := range continents {
		for _, k := range strings.Fields(list) {
			m[k] = c
		}
	}
	return m
}()

// FillContinent gives a geographic location without a continent the one
// of its country (NetScaler's geographic context derives it so): a file
// of countries only (ip-country) then still tells Korea nearer to Japan
// than to the United States.
func FillContinent(l *Location) {
	if l.Q[0] != "" || len(l.Q[1]) != 2 {
		return
	}
	if c, ok := continentOf[strings.ToUpper(l.Q[1])]; ok {
		l.Q[0] = c
	}
}
