/*
 * err.c — error names and messages, generated from SSP_ERR_MAP (core layer).
 */
#include "ssp/core.h"

const char *ssp_strerror(int err)
{
	switch (err) {
#define X(name, code, msg) \
	case code:         \
		return msg;
		SSP_ERR_MAP(X)
#undef X
	}
	return "unknown error";
}

const char *ssp_errname(int err)
{
	switch (err) {
#define X(name, code, msg) \
	case code:         \
		return #name;
		SSP_ERR_MAP(X)
#undef X
	}
	return "UNKNOWN";
}
