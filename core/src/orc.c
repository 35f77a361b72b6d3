/*
** Version, status names, process initialisation, error records.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "json_int.h"

int orc_version_num(void) {
  return ORC_VERSION_NUM;
}

const char *orc_version(void) {
  return ORC_VERSION;
}

int orc_global_init(orc_error *err) {
  /* curl_global_init is reference counted and, from libcurl 7.84 on,
  ** thread-safe; calling it once per engine user is therefore harmless. */
  CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    return orci_error(err, ORC_EHTTP, NULL, "curl_global_init failed: %s",
                      curl_easy_strerror(rc));
  return ORC_OK;
}

const char *orc_status_name(int status) {
  switch (status) {
  case ORC_OK:
    return "OK";
  case ORC_PENDING:
    return "PENDING";
  case ORC_ENOMEM:
    return "ENOMEM";
  case ORC_EINVAL:
    return "EINVAL";
  case ORC_EMISUSE:
    return "EMISUSE";
  case ORC_EJSON:
    return "EJSON";
  case ORC_EHTTP:
    return "EHTTP";
  case ORC_ETIMEOUT:
    return "ETIMEOUT";
  case ORC_ECANCELED:
    return "ECANCELED";
  case ORC_EUNSUPPORT:
    return "EUNSUPPORT";
  default:
    return "EUNKNOWN";
  }
}

int orci_error(orc_error *err, int code, const char *where, const char *fmt,
               ...) {
  va_list ap;
  if (err == NULL) return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  snprintf(err->where, sizeof err->where, "%s", where ? where : "");
  return code;
}
