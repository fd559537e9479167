/*
 * Label rendering CPU per one-label job, each language beside the bare
 * libqrencode encoding of the same code in the same run (the floor: every
 * label encodes its code). Targets: PDF <= 5 ms, ZPL and TSPL <= 1 ms.
 *   bench_render [N]     N renders each (default 500), after a warm-up
 */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ac_label.h"

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const char *const fallbacks[] = { "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
						 "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
						 NULL };
	static const char *const codes[] = {
		"HTTP://127.0.0.1:8080/V/"
		"AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QCAIEBAGBAFAYDQQCIKBMGA2DQPCAIRE"
		"EYUCULBOGAZDINRYHI6D4QCAIEBAGBAFAYDQQCIKBMGA2DQPCAIREEYUCULBOGAZDINRYHI6D4QCA"
	};
	ac_label_data d = {
		.product = "豇豆",
		.quantity = "25 千克",
		.origin = "福建省安溪县凤城镇",
		.issuer = "凤城镇示范家庭农场",
		.contact = "13859001234",
		.date = "2026-11-23",
		.number = "000000000123",
		.promise = "未使用禁用农药、兽药及其他化合物；使用的常规农药、兽药残留不超标。",
		.basis = "质量安全控制符合要求",
		.codes = codes,
		.ncodes = 1,
	};
	int n = argc > 1 ? atoi(argv[1]) : 500;
	ac_label_renderer *r;

	if (n < 1 || ac_label_renderer_new("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
					   fallbacks, &r) != 0) {
		fprintf(stderr, "bench_render: could not load the label fonts\n");
		return 1;
	}
	double t0 = cpu_ms();
	for (int i = 0; i < n; i++)
		QRcode_free(QRcode_encodeString(codes[0], 0, QR_ECLEVEL_M, QR_MODE_8, 1));
	double bare = (cpu_ms() - t0) / n;
	printf("render: bare qrencode %.3f ms per code\n", bare);
	static const struct {
		ac_label_lang lang;
		const char *size;
		double target;
	} runs[] = {
		{ AC_LABEL_PDF, "60x40", 5.0 },	     { AC_LABEL_ZPL, "60x40", 1.0 },
		{ AC_LABEL_TSPL, "60x40", 1.0 },     { AC_LABEL_PDF, "100x70@300", 5.0 },
		{ AC_LABEL_ZPL, "100x70@300", 1.0 }, { AC_LABEL_TSPL, "70x50", 1.0 },
	};
	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		ac_label_printer p = { .lang = runs[k].lang, .darkness = -1 };
		unsigned char *out;
		size_t len = 0;

		ac_label_size_parse(runs[k].size, &p.size);
		for (int i = 0; i < 20; i++) { /* warm-up: layouts and glyph bitmaps cached */
			if (ac_label_render(r, &p, &d, &out, &len, NULL) == 0)
				free(out);
		}
		t0 = cpu_ms();
		for (int i = 0; i < n; i++) {
			if (ac_label_render(r, &p, &d, &out, &len, NULL) == 0)
				free(out);
		}
		double ms = (cpu_ms() - t0) / n;
		printf("render: %-4s %-10s %.3f ms CPU per one-label job (%zu bytes), %.1f x bare "
		       "qrencode (target <= %.0f ms)\n",
		       ac_label_lang_name(p.lang), runs[k].size, ms, len, ms / bare,
		       runs[k].target);
	}
	ac_label_renderer_free(r);
	return 0;
}
