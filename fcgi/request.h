/*
 * request.h - one FastCGI request: parameters in, JSON answer out.
 */
#ifndef CD_REQUEST_H
#define CD_REQUEST_H

#include <fcgiapp.h>

#include "api.h"

/* Serves one accepted request and logs one line about it to stderr. */
void cd_request_serve(struct cd_app *app, FCGX_Request *fr);

#endif
