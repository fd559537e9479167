/*
 * The QR size budget of CODE.md, measured with libqrencode (a test-only
 * dependency: proto itself never includes it): the largest code behind a
 * realistic host fits QR version 8 or smaller at error correction level M,
 * and libqrencode's own mode choice for the upper-case URL is never larger
 * than alphanumeric mode alone.
 */
#include <string.h>

#include <qrencode.h>

#include "ac_code.h"
#include "ac_error.h"
#include "ac_test.h"
#include "test_util.h"

/*
 * Version libqrencode picks for text (it splits the text into the cheapest
 * modes itself; the hint may only be QR_MODE_8 or QR_MODE_KANJI).
 */
static int qr_version(const char *text, QRencodeMode hint)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, hint, 1);
	int v = qr != NULL ? qr->version : -1;

	QRcode_free(qr);
	return v;
}

/* Version of text in alphanumeric mode only, or -1 when it is not all alphanumeric. */
static int qr_version_an(const char *text)
{
	QRinput *in = QRinput_new2(0, QR_ECLEVEL_M);
	QRcode *qr = NULL;
	int v = -1;

	if (in != NULL &&
	    QRinput_append(in, QR_MODE_AN, (int)strlen(text), (const unsigned char *)text) == 0)
		qr = QRcode_encodeInput(in);
	if (qr != NULL)
		v = qr->version;
	QRcode_free(qr);
	QRinput_free(in);
	return v;
}

/*
 * Capacities at M in alphanumeric mode (ISO/IEC 18004 table 7): v7 178,
 * v8 221, v9 262, v10 311 characters.
 */
static void check_capacities(void)
{
	static const int cap[][2] = { { 178, 7 }, { 221, 8 }, { 262, 9 }, { 311, 10 } };
	char an[400];
	int ok = 1;

	for (size_t i = 0; i < sizeof(cap) / sizeof(cap[0]); i++) {
		memset(an, 'A', sizeof(an));
		an[cap[i][0]] = '\0';
		if (qr_version_an(an) != cap[i][1])
			ok = 0;
		an[cap[i][0]] = 'A';
		an[cap[i][0] + 1] = '\0';
		if (qr_version_an(an) != cap[i][1] + 1)
			ok = 0;
	}
	AC_CHECK(ok, "alphanumeric capacities at M: 178, 221, 262, 311");
}

/* The QR version of the URL of code text behind hosts of several lengths. */
static void check_hosts(const char *text)
{
	/*
	 * Host names of n characters behind "HTTPS://" (n = 0: the development
	 * URL "HTTP://127.0.0.1:8080"; n = 24: TRACE.AGRI.FUJIAN.GOV.CN). The
	 * text is 8 + n + 3 + 151 characters: n <= 16 fits version 7 at M,
	 * n <= 59 version 8, n <= 100 version 9.
	 */
	static const struct {
		int host_len;
		int version;
	} hosts[] = {
		{ 0, 7 },  { 16, 7 }, { 17, 8 },  { 24, 8 },   { 35, 8 },
		{ 59, 8 }, { 60, 9 }, { 100, 9 }, { 101, 10 },
	};
	char url[AC_CODE_URL_MAX];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char public_url[160] = "http://127.0.0.1:8080";
		char lower[AC_CODE_URL_MAX];
		int hl = hosts[i].host_len;
		int n;
		int v;

		if (hl == 24) {
			strcpy(public_url, "https://trace.agri.fujian.gov.cn");
		} else if (hl > 0) {
			snprintf(
			    public_url, sizeof(public_url), "https://%.*s.gov.cn", hl - 7,
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "x");
		}
		n = ac_code_url(public_url, text, url, sizeof(url));
		v = qr_version(url, QR_MODE_8);
		for (int j = 0; j <= n; j++)
			lower[j] = (char)(url[j] >= 'A' && url[j] <= 'Z' ? url[j] + 32 : url[j]);
		printf("# %3d characters: version %d at M (alphanumeric only: %d; lower case: %d) "
		       "%s\n",
		       n, v, qr_version_an(url), qr_version(lower, QR_MODE_8), public_url);
		/*
		 * Alphanumeric mode alone gives the bound, exact by length; libqrencode
		 * may do a little better by coding runs of base32 digits in numeric mode.
		 */
		AC_CHECK(n > 0 && qr_version_an(url) == hosts[i].version && v <= hosts[i].version,
			 "QR version of the largest code");
		if (hl == 35)
			AC_CHECK(v <= 8, "a 35-character host fits version 8 at M");
	}
}

int main(void)
{
	/* The largest field values: every signed byte as high as it may be. */
	ac_code_fields f = test_fields_largest();
	ac_key *key = NULL;
	char text[AC_CODE_TEXT_SIZE];

	AC_CHECK(ac_key_generate(AC_ALG_ED25519, &key) == 0, "key");
	AC_CHECK(ac_code_sign(key, &f, text, sizeof(text)) == 0, "largest code");
	check_capacities();
	check_hosts(text);
	ac_key_free(key);
	return ac_test_done();
}
