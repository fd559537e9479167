/* Printing's words and checks for the handlers (see ac_printing.h). */
#include <stdio.h>
#include <string.h>

#include "ac_app.h"
#include "ac_error.h"
#include "ac_printing.h"

int ac_printing_refuse_text(ac_req *r, const char *field, const char *s)
{
	uint32_t cp = 0;
	char en[160];
	char zh[200];

	if (ac_printq_check_text(ac_app_of(r)->printq, s, &cp) == 0)
		return 0;
	snprintf(en, sizeof(en), "%s has the character U+%04X, which no label font can print",
		 field, cp);
	snprintf(zh, sizeof(zh), "“U+%04X”这个字无法打印在标签上，请换用常用字或拼音", cp);
	ac_req_error_field(r, 422, "unprintable_character", field, en, zh);
	return -1;
}

static const struct {
	const char *code, *en, *zh;
} faults[] = {
	{ "paused", "the printer queue is paused",
	  "打印机已暂停：请服务站管理员恢复打印，恢复后会继续打印" },
	{ "stopped", "the printer queue has stopped",
	  "打印机已停止工作：请检查打印机和连线，然后由管理员恢复打印" },
	{ "media-empty", "the printer is out of labels",
	  "打印机缺纸：请装入标签纸，装好后会继续打印" },
	{ "media-jam", "the labels are jammed", "标签卡纸：请打开打印机取出卡住的标签" },
	{ "cover-open", "the printer cover is open", "打印机盖未关好：请合上打印机盖" },
	{ "offline", "the printer does not answer", "打印机没有响应：请检查电源和数据线（网线）" },
	{ "cups-down", "the print server cannot be reached",
	  "打印服务连接不上：请稍后点“补打”，合格证已保存，不会丢失" },
	{ "timeout", "not printed in time; cancelled",
	  "长时间未能打印，已取消：排除故障后请点“补打”，打印同样的二维码" },
	{ "no-queue", "the kiosk's printer is not set up", "服务站打印机未设置：请联系管理员" },
	{ "rejected", "the printer queue does not accept jobs",
	  "打印机不接受任务：请服务站管理员检查打印机设置" },
	{ "label-too-small", "the certificate does not fit this label size",
	  "标签太小，放不下合格证的全部内容：请换用更大的标签（如60×40毫米）后补打" },
	{ "unprintable-character", "a character cannot be printed",
	  "有字无法打印：请修改相关内容后重新开具" },
	{ "printer-error", "the printer reported an error", "打印出错：请检查打印机后点“补打”" },
};

json_t *ac_printing_fault_json(const char *fault)
{
	if (fault == NULL || *fault == '\0')
		return json_null();
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		if (strcmp(faults[i].code, fault) == 0)
			return json_pack("{s:s,s:s,s:s}", "code", faults[i].code, "message",
					 faults[i].en, "message_zh", faults[i].zh);
	}
	return json_pack("{s:s,s:s,s:s}", "code", fault, "message", "printing failed", "message_zh",
			 "打印出错：请检查打印机后点“补打”");
}
