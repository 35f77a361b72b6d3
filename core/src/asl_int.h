/*
** Compiled state machines: what asl.c builds from a definition and exec.c
** runs. Everything is resolved at load time (state indexes, paths,
** templates, rules) so that no transition parses text.
*/
#ifndef ORCHESTRA_ASL_INT_H
#define ORCHESTRA_ASL_INT_H

#include "intrinsics_int.h"
#include "orchestra/jsonata.h"
#include "orchestra/engine.h"

/* {====== payload templates (Parameters, ResultSelector, ...) */

#define ORCI_T_CONST     0 /* a value with no ".$" inside: shared as is */
#define ORCI_T_PATH      1 /* "key.$": "$.path" (or "$$.", "$var") */
#define ORCI_T_INTRINSIC 2 /* "key.$": "States.Format(...)" */
#define ORCI_T_OBJECT    3 /* an object with at least one dynamic member */
#define ORCI_T_ARRAY     4 /* an array with at least one dynamic item */
#define ORCI_T_JSONATA   5 /* "{% expression %}" (JSONata states) */

/* What a JSONata expression reads, known at load (ORCI_T_JSONATA). */
#define ORCI_Q_CONTEXT 1 /* $states.context (built only when read) */
#define ORCI_Q_RANDOM  2 /* $random, $uuid, $shuffle: a seed per evaluation */

typedef struct orci_tmpl orci_tmpl;
struct orci_tmpl {
  int kind;
  orc_json *value;          /* ORCI_T_CONST */
  orci_path *path;          /* ORCI_T_PATH */
  orci_intrinsic *fn;       /* ORCI_T_INTRINSIC */
  char *field;              /* the "key.$" text, for error causes */
  size_t n;                 /* members or items */
  orc_json **keys;          /* member names without ".$" (ORCI_T_OBJECT) */
  orci_tmpl **items;        /* member or item templates */
  struct orc_jsonata *expr; /* ORCI_T_JSONATA: the compiled expression */
  int qflags;               /* ORCI_T_JSONATA: ORCI_Q_* */
  /* ORCI_T_JSONATA of the form $states.input.a.b (or .result, .errorOutput,
  ** .context, or $variable.a.b): read directly while every step meets an
  ** object, else evaluated */
  int qroot;   /* ORCI_QR_* */
  char *qpath; /* NUL-terminated names: the variable (ORCI_QR_VAR), steps */
  size_t nq;   /* steps */
  int qop;     /* "a OP b" of two such paths or numbers (items[0], items[1]):
                  '+', '-', '*', '/', '<', 'l' (<=), '>', 'g' (>=), '=', '!' */
};

#define ORCI_QR_NONE    0
#define ORCI_QR_INPUT   1
#define ORCI_QR_RESULT  2
#define ORCI_QR_ERROR   3
#define ORCI_QR_CONTEXT 4
#define ORCI_QR_VAR     5

/* }====== */

/* {====== Choice rules */

enum {
  ORCI_OP_AND,
  ORCI_OP_OR,
  ORCI_OP_NOT,
  ORCI_OP_STRING_EQ,
  ORCI_OP_STRING_LT,
  ORCI_OP_STRING_GT,
  ORCI_OP_STRING_LE,
  ORCI_OP_STRING_GE,
  ORCI_OP_STRING_MATCHES,
  ORCI_OP_NUMERIC_EQ,
  ORCI_OP_NUMERIC_LT,
  ORCI_OP_NUMERIC_GT,
  ORCI_OP_NUMERIC_LE,
  ORCI_OP_NUMERIC_GE,
  ORCI_OP_BOOLEAN_EQ,
  ORCI_OP_TIMESTAMP_EQ,
  ORCI_OP_TIMESTAMP_LT,
  ORCI_OP_TIMESTAMP_GT,
  ORCI_OP_TIMESTAMP_LE,
  ORCI_OP_TIMESTAMP_GE,
  ORCI_OP_IS_NULL,
  ORCI_OP_IS_PRESENT,
  ORCI_OP_IS_NUMERIC,
  ORCI_OP_IS_STRING,
  ORCI_OP_IS_BOOLEAN,
  ORCI_OP_IS_TIMESTAMP,
  ORCI_OP_CONDITION /* JSONata Condition */
};

typedef struct orci_rule orci_rule;
struct orci_rule {
  int op;
  orci_path *variable;     /* the Variable (comparators only) */
  orc_json *operand;       /* literal operand, or NULL */
  orci_path *operand_path; /* the *Path form's operand, or NULL */
  size_t n;                /* And/Or children (Not: 1) */
  orci_rule **children;
  int next;             /* top-level rules: the state index to go to */
  orci_tmpl *assign;    /* top-level rules: Assign when the rule matches */
  orci_tmpl *condition; /* JSONata: Condition (op is ORCI_OP_CONDITION) */
  orci_tmpl *output;    /* JSONata: Output when the rule matches */
};

/* }====== */

typedef struct orci_retrier {
  char **errors; /* ErrorEquals */
  size_t nerrors;
  int64_t interval_s;   /* IntervalSeconds (default 1) */
  int64_t max_attempts; /* MaxAttempts (default 3) */
  double backoff;       /* BackoffRate (default 2.0) */
  int64_t max_delay_s;  /* MaxDelaySeconds (0: none) */
  int jitter_full;      /* JitterStrategy FULL */
} orci_retrier;

typedef struct orci_catcher {
  char **errors;
  size_t nerrors;
  int next;
  orci_path *result_path; /* NULL: "$" */
  int result_discard;     /* ResultPath: null */
  orci_tmpl *assign;      /* Assign when this catcher catches */
  orci_tmpl *output;      /* JSONata: Output (default $states.errorOutput) */
} orci_catcher;

enum {
  ORCI_ST_PASS,
  ORCI_ST_TASK,
  ORCI_ST_CHOICE,
  ORCI_ST_WAIT,
  ORCI_ST_SUCCEED,
  ORCI_ST_FAIL,
  ORCI_ST_MAP,
  ORCI_ST_PARALLEL
};

/* How a Task's Resource appears in the history. */
#define ORCI_RES_SERVICE 0 /* arn:aws:states:::svc:action[.sync...] */
#define ORCI_RES_LAMBDA  1 /* arn:aws:lambda:...:function:name */
#define ORCI_RES_OTHER   2 /* anything else */

typedef struct orci_state orci_state;

/* A list of states with a start: the machine's top level, a Parallel
** branch or a Map's ItemProcessor. Next/Default/Catch stay inside it. */
typedef struct orci_branch {
  orci_state *states;
  size_t nstates;
  int start;
} orci_branch;

struct orci_state {
  char *name;
  orc_json *name_json; /* the name as a value, shared by history events */
  int type;
  int jsonata;       /* QueryLanguage JSONata */
  int next;          /* index of Next, or -1 for End */
  orci_tmpl *assign; /* Assign (workflow variables), or NULL */
  orci_path *input_path, *output_path, *result_path; /* NULL: "$" */
  int input_null, output_null, result_discard;       /* the field is null */
  orci_tmpl *parameters, *result_selector;
  orc_json *result; /* Pass: Result */
  /* JSONata states: Arguments (in parameters), Output and the fields
  ** that may be expressions (NULL: absent or a literal, kept above) */
  orci_tmpl *output;
  orci_tmpl *q_timeout, *q_heartbeat, *q_seconds, *q_timestamp;
  orci_tmpl *q_error, *q_cause, *q_items, *q_max_concurrency;
  orci_tmpl *q_tolerated_count, *q_tolerated_percent;
  orci_tmpl *q_batch_items, *q_batch_bytes, *q_reader_max_items;
  /* Task */
  char *resource;
  int resource_kind;
  char *resource_type, *resource_name; /* history's resourceType/resource */
  int64_t timeout_s, heartbeat_s;      /* 0: none */
  orci_path *timeout_path, *heartbeat_path;
  orci_retrier *retry;
  size_t nretry;
  orci_catcher *catch_;
  size_t ncatch;
  /* Choice */
  orci_rule **choices;
  size_t nchoices;
  int default_next; /* -1: none */
  /* Wait */
  int64_t wait_seconds; /* -1: not set */
  char *wait_timestamp; /* literal Timestamp */
  int64_t wait_timestamp_ms;
  orci_path *seconds_path, *timestamp_path;
  /* Fail */
  char *error, *cause;
  orci_path *error_path, *cause_path;
  orci_intrinsic *error_fn, *cause_fn;
  /* Parallel */
  orci_branch *branches;
  size_t nbranches;
  /* Map (inline) */
  orci_branch *processor;   /* ItemProcessor or the legacy Iterator */
  orci_path *items_path;    /* NULL: "$" */
  orci_tmpl *item_selector; /* ItemSelector or the legacy Parameters */
  int64_t max_concurrency;  /* 0: no limit of the definition's own */
  orci_path *max_concurrency_path;
  double tolerated_percent; /* -1: not set */
  int64_t tolerated_count;  /* -1: not set */
  orci_path *tolerated_percent_path, *tolerated_count_path;
  int64_t batch_max_items; /* ItemBatcher.MaxItemsPerBatch (0: none) */
  int64_t batch_max_bytes; /* ItemBatcher.MaxInputBytesPerBatch */
  orci_path *batch_max_items_path, *batch_max_bytes_path;
  orci_tmpl *batch_input; /* ItemBatcher.BatchInput */
  int batched;            /* an ItemBatcher is present */
  int distributed;        /* ProcessorConfig.Mode DISTRIBUTED */
  char *label;            /* Map Label (distributed) */
  /* Map ItemReader (distributed): items read from a file */
  int reader;               /* ORCI_READ_* (0: no ItemReader) */
  orci_tmpl *reader_params; /* its Parameters (Bucket, Key / Prefix) */
  int csv_given;            /* CSVHeaderLocation GIVEN */
  char **csv_headers;       /* CSVHeaders (GIVEN) */
  size_t ncsv_headers;
  char csv_delim;           /* CSVDelimiter (default ',') */
  int64_t reader_max_items; /* ReaderConfig.MaxItems (0: all) */
  orci_path *reader_max_items_path;
  /* Map ResultWriter: results written as files */
  int writer;               /* a ResultWriter is present */
  orci_tmpl *writer_params; /* its Parameters (Bucket, Prefix) */
  int writer_jsonl;         /* WriterConfig.OutputType JSONL */
  int writer_transform;     /* ORCI_WRITE_NONE / _COMPACT / _FLATTEN */
};

#define ORCI_READ_JSON  1 /* s3:getObject, InputType JSON (an array) */
#define ORCI_READ_JSONL 2 /* s3:getObject, InputType JSONL */
#define ORCI_READ_CSV   3 /* s3:getObject, InputType CSV */
#define ORCI_READ_LIST  4 /* s3:listObjectsV2: the objects under a prefix */

#define ORCI_WRITE_NONE    0 /* full child execution records */
#define ORCI_WRITE_COMPACT 1 /* the children's outputs */
#define ORCI_WRITE_FLATTEN 2 /* outputs, arrays flattened one level */

struct orc_machine {
  orc_engine *E;
  orc_json *definition;
  char *name, *arn;
  orci_branch top;
  int64_t timeout_s;         /* execution TimeoutSeconds (0: none) */
  orc_json *ctx;             /* $$.StateMachine, shared by its executions */
  orc_machine *next_machine; /* engine's list */
};

/* Append a diagnostic; returns 0, or -1 when out of memory. */
int orci_diag_add(orc_diagnostics *d, const char *pointer, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Compile def into M (fields zeroed by the caller). Problems go to diag;
** returns ORC_OK, ORC_EINVAL, ORC_EUNSUPPORT or ORC_ENOMEM. */
int orci_machine_compile(orc_machine *M, orc_json *def, orc_diagnostics *diag,
                         orc_error *err);
void orci_machine_release(orc_machine *M);

/* RFC 3339 timestamp text to Unix ms; 0 on success, -1 if invalid. Step
** Functions requires the "T" and a "Z" or an offset. */
int orci_parse_timestamp(const char *s, size_t len, int64_t *ms);
/* Unix ms to "2024-01-31T12:00:00.000Z" (buf at least 40 bytes). */
void orci_format_timestamp(int64_t ms, char *buf);

#endif
