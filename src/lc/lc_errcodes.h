/*-------------------------------------------------------------------------
 *
 * lc_errcodes.h
 *	  Every SQLSTATE of pg_lowcode, in one place: the codes of docs/errors.md.
 *
 * src/lc/ holds the project's shared libraries (see lc_host.h).  Codes
 * raised from SQL (RAISE ... USING ERRCODE = 'LT001') are listed too, so
 * that this header and docs/errors.md are the same list:
 * test/t/004_extension_error_codes.pl checks that each code here is documented and
 * each documented code is here.  Codes numbered 4xx in their last three
 * digits are answered as HTTP errors through PostgREST (PGRST, see
 * lc_http.h) with the code in the body's "code".  A new code goes here
 * and into docs/errors.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LC_ERRCODES_H
#define LC_ERRCODES_H

/* tenancy (docs/errors.md, "Tenancy"): class LT */
#define ERRCODE_LT_INVALID_TENANT_SLUG           MAKE_SQLSTATE('L','T','0','0','1')
#define ERRCODE_LT_UNKNOWN_TIER                  MAKE_SQLSTATE('L','T','0','0','2')
#define ERRCODE_LT_DUPLICATE_TENANT_SLUG         MAKE_SQLSTATE('L','T','0','0','3')
#define ERRCODE_LT_UNKNOWN_TENANT                MAKE_SQLSTATE('L','T','0','0','4')
#define ERRCODE_LT_INVALID_TENANT_TABLE          MAKE_SQLSTATE('L','T','0','0','5')
#define ERRCODE_LT_UNKNOWN_ROLE                  MAKE_SQLSTATE('L','T','0','0','6')
#define ERRCODE_LT_API_ROLE_BYPASSES_RLS         MAKE_SQLSTATE('L','T','0','0','7')
#define ERRCODE_LT_INVALID_EVENT                 MAKE_SQLSTATE('L','T','0','0','8')
#define ERRCODE_LT_UNSUPPORTED_LOCALE            MAKE_SQLSTATE('L','T','0','0','9')
#define ERRCODE_LT_CONTEXT_IN_PARALLEL_WORKER    MAKE_SQLSTATE('L','T','0','1','0')
#define ERRCODE_LT_OPEN_POLICY                   MAKE_SQLSTATE('L','T','0','1','1')
#define ERRCODE_LT_INVALID_TENANT_CONTEXT        MAKE_SQLSTATE('L','T','0','1','2')
#define ERRCODE_LT_NOT_DISTRIBUTABLE             MAKE_SQLSTATE('L','T','0','1','3')
#define ERRCODE_LT_WORKER_COMMAND_FAILED         MAKE_SQLSTATE('L','T','0','1','4')
#define ERRCODE_LT_HTTP_400                      MAKE_SQLSTATE('L','T','4','0','0')
#define ERRCODE_LT_HTTP_401                      MAKE_SQLSTATE('L','T','4','0','1')
#define ERRCODE_LT_HTTP_403                      MAKE_SQLSTATE('L','T','4','0','3')
#define ERRCODE_LT_HTTP_423                      MAKE_SQLSTATE('L','T','4','2','3')

/* sessions: class LS */
#define ERRCODE_LS_INVALID_SESSION_ARGUMENT      MAKE_SQLSTATE('L','S','0','0','1')
#define ERRCODE_LS_UNKNOWN_TENANT                MAKE_SQLSTATE('L','S','0','0','2')
#define ERRCODE_LS_TENANT_SUSPENDED              MAKE_SQLSTATE('L','S','0','0','3')
#define ERRCODE_LS_INVALID_SESSION_TIMEOUT       MAKE_SQLSTATE('L','S','0','0','4')
#define ERRCODE_LS_UNKNOWN_SESSION               MAKE_SQLSTATE('L','S','0','0','6')
#define ERRCODE_LS_HTTP_401                      MAKE_SQLSTATE('L','S','4','0','1')
#define ERRCODE_LS_HTTP_440                      MAKE_SQLSTATE('L','S','4','4','0')
#define ERRCODE_LS_HTTP_441                      MAKE_SQLSTATE('L','S','4','4','1')
#define ERRCODE_LS_HTTP_442                      MAKE_SQLSTATE('L','S','4','4','2')

/* quotas and rate limits: class LQ */
#define ERRCODE_LQ_UNKNOWN_LIMIT                 MAKE_SQLSTATE('L','Q','0','0','1')
#define ERRCODE_LQ_INVALID_LIMIT_VALUE           MAKE_SQLSTATE('L','Q','0','0','2')
#define ERRCODE_LQ_PG_CRON_MISSING               MAKE_SQLSTATE('L','Q','0','0','3')
#define ERRCODE_LQ_PG_CRON_ELSEWHERE             MAKE_SQLSTATE('L','Q','0','0','4')
#define ERRCODE_LQ_HTTP_429                      MAKE_SQLSTATE('L','Q','4','2','9')
#define ERRCODE_LQ_HTTP_430                      MAKE_SQLSTATE('L','Q','4','3','0')
#define ERRCODE_LQ_HTTP_431                      MAKE_SQLSTATE('L','Q','4','3','1')
#define ERRCODE_LQ_HTTP_432                      MAKE_SQLSTATE('L','Q','4','3','2')
#define ERRCODE_LQ_HTTP_433                      MAKE_SQLSTATE('L','Q','4','3','3')
#define ERRCODE_LQ_TIER_SETTING_RAISED           MAKE_SQLSTATE('L','Q','4','3','4')
#define ERRCODE_LQ_WORKFLOW_TIMER_LIMIT          MAKE_SQLSTATE('L','Q','4','3','5')
#define ERRCODE_LQ_WORKFLOW_INSTANCE_LIMIT       MAKE_SQLSTATE('L','Q','4','3','6')

/* JSON Schema: class LJ */
#define ERRCODE_LJ_INVALID_SCHEMA                MAKE_SQLSTATE('L','J','0','0','1')
#define ERRCODE_LJ_UNKNOWN_DIALECT               MAKE_SQLSTATE('L','J','0','0','2')
#define ERRCODE_LJ_INVALID_PATTERN               MAKE_SQLSTATE('L','J','0','0','3')
#define ERRCODE_LJ_UNRESOLVED_REF                MAKE_SQLSTATE('L','J','0','0','4')
#define ERRCODE_LJ_REF_CYCLE                     MAKE_SQLSTATE('L','J','0','0','5')
#define ERRCODE_LJ_TOO_DEEP                      MAKE_SQLSTATE('L','J','0','0','6')
#define ERRCODE_LJ_INVALID_OPTIONS               MAKE_SQLSTATE('L','J','0','0','7')
#define ERRCODE_LJ_INVALID_DOCUMENT              MAKE_SQLSTATE('L','J','0','0','8')

/* rules: CEL (LR0xx) and JsonLogic (LR1xx): class LR */
#define ERRCODE_CEL_PARSE                        MAKE_SQLSTATE('L','R','0','0','1')
#define ERRCODE_CEL_TOO_LONG                     MAKE_SQLSTATE('L','R','0','0','2')
#define ERRCODE_CEL_DATA                         MAKE_SQLSTATE('L','R','0','0','3')
#define ERRCODE_CEL_NOT_BOOL                     MAKE_SQLSTATE('L','R','0','0','4')
#define ERRCODE_CEL_EVALUATION_ERROR             MAKE_SQLSTATE('L','R','0','0','9')
#define ERRCODE_CEL_NO_SUCH_KEY                  MAKE_SQLSTATE('L','R','0','1','0')
#define ERRCODE_CEL_OVERFLOW                     MAKE_SQLSTATE('L','R','0','1','1')
#define ERRCODE_CEL_DIVISION_BY_ZERO             MAKE_SQLSTATE('L','R','0','1','2')
#define ERRCODE_CEL_NO_MATCHING_OVERLOAD         MAKE_SQLSTATE('L','R','0','1','3')
#define ERRCODE_CEL_UNKNOWN_VARIABLE             MAKE_SQLSTATE('L','R','0','1','4')
#define ERRCODE_CEL_INDEX_OUT_OF_RANGE           MAKE_SQLSTATE('L','R','0','1','5')
#define ERRCODE_CEL_CONVERSION_ERROR             MAKE_SQLSTATE('L','R','0','1','6')
#define ERRCODE_CEL_INVALID_ARGUMENT             MAKE_SQLSTATE('L','R','0','1','7')
#define ERRCODE_CEL_UNKNOWN_FUNCTION             MAKE_SQLSTATE('L','R','0','1','8')
#define ERRCODE_CEL_FUNCTION_FAILED              MAKE_SQLSTATE('L','R','0','1','9')
#define ERRCODE_CEL_COST_EXCEEDED                MAKE_SQLSTATE('L','R','0','2','0')
#define ERRCODE_CEL_TOO_DEEP                     MAKE_SQLSTATE('L','R','0','2','1')
#define ERRCODE_CEL_VALUE_TOO_LARGE              MAKE_SQLSTATE('L','R','0','2','2')
#define ERRCODE_LR_INVALID_RULE_FUNCTION_NAME    MAKE_SQLSTATE('L','R','0','3','0')
#define ERRCODE_LR_RULE_FUNCTION_REFUSED         MAKE_SQLSTATE('L','R','0','3','1')
#define ERRCODE_LR_RULE_FUNCTION_TYPE_UNMAPPED   MAKE_SQLSTATE('L','R','0','3','2')
#define ERRCODE_JSONLOGIC_UNKNOWN_OPERATOR       MAKE_SQLSTATE('L','R','1','0','1')
#define ERRCODE_JSONLOGIC_TOO_DEEP               MAKE_SQLSTATE('L','R','1','0','2')
#define ERRCODE_JSONLOGIC_COST_EXCEEDED          MAKE_SQLSTATE('L','R','1','0','3')
#define ERRCODE_JSONLOGIC_RULE_TOO_LONG          MAKE_SQLSTATE('L','R','1','0','4')
#define ERRCODE_JSONLOGIC_TYPE_ERROR             MAKE_SQLSTATE('L','R','1','0','5')
#define ERRCODE_JSONLOGIC_VALUE_TOO_LARGE        MAKE_SQLSTATE('L','R','1','0','6')

/* the schema registry: class LG */
#define ERRCODE_LG_INVALID_SUBJECT               MAKE_SQLSTATE('L','G','0','0','1')
#define ERRCODE_LG_SUBJECT_NOT_FOUND             MAKE_SQLSTATE('L','G','0','0','2')
#define ERRCODE_LG_VERSION_NOT_FOUND             MAKE_SQLSTATE('L','G','0','0','3')
#define ERRCODE_LG_INCOMPATIBLE                  MAKE_SQLSTATE('L','G','0','0','4')
#define ERRCODE_LG_INVALID_MODE                  MAKE_SQLSTATE('L','G','0','0','5')
#define ERRCODE_LG_NO_REGISTRY_SCOPE             MAKE_SQLSTATE('L','G','0','0','6')
#define ERRCODE_LG_VERSION_IMMUTABLE             MAKE_SQLSTATE('L','G','0','0','7')
#define ERRCODE_LG_VERSION_IN_USE                MAKE_SQLSTATE('L','G','0','0','8')
#define ERRCODE_LG_SOFT_DELETE_FIRST             MAKE_SQLSTATE('L','G','0','0','9')
#define ERRCODE_LG_DIFF_TOO_COMPLEX              MAKE_SQLSTATE('L','G','0','1','0')
#define ERRCODE_LG_INVALID_SCHEMA                MAKE_SQLSTATE('L','G','0','1','1')
#define ERRCODE_LG_INVALID_DATA                  MAKE_SQLSTATE('L','G','0','1','2')
#define ERRCODE_LG_VERSION_DISABLED              MAKE_SQLSTATE('L','G','0','1','3')
#define ERRCODE_LG_GLOBAL_SUBJECT_NAME           MAKE_SQLSTATE('L','G','0','1','4')
#define ERRCODE_LG_INVALID_REGISTRY_USE          MAKE_SQLSTATE('L','G','0','1','5')
#define ERRCODE_LG_INVALID_VERSION_STATE         MAKE_SQLSTATE('L','G','0','1','6')

/* the SQLSTATE PostgREST turns into an HTTP answer (lc_http.h) */
#define ERRCODE_PGRST                            MAKE_SQLSTATE('P','G','R','S','T')

/* LW: workflows (raised from SQL, sql/80_workflow.sql) */
#define ERRCODE_LW_INVALID_WORKFLOW_NAME         MAKE_SQLSTATE('L','W','0','0','1')
#define ERRCODE_LW_WORKFLOW_NOT_FOUND            MAKE_SQLSTATE('L','W','0','0','2')
#define ERRCODE_LW_WORKFLOW_VERSION_NOT_FOUND    MAKE_SQLSTATE('L','W','0','0','3')
#define ERRCODE_LW_INCOMPATIBLE_WORKFLOW         MAKE_SQLSTATE('L','W','0','0','4')
#define ERRCODE_LW_INVALID_WORKFLOW_USE          MAKE_SQLSTATE('L','W','0','0','5')
#define ERRCODE_LW_NO_WORKFLOW_SCOPE             MAKE_SQLSTATE('L','W','0','0','6')
#define ERRCODE_LW_STATE_CHANGE_REFUSED          MAKE_SQLSTATE('L','W','0','0','7')
#define ERRCODE_LW_INVALID_DEFINITION            MAKE_SQLSTATE('L','W','0','1','1')
#define ERRCODE_LW_RECORD_NOT_FOUND              MAKE_SQLSTATE('L','W','4','0','4')
#define ERRCODE_LW_EVENT_NOT_ALLOWED             MAKE_SQLSTATE('L','W','4','0','9')
#define ERRCODE_LW_GUARD_REFUSED                 MAKE_SQLSTATE('L','W','4','2','2')
#define ERRCODE_LW_STATE_SCHEMA_INVALID          MAKE_SQLSTATE('L','W','4','2','3')
#define ERRCODE_LW_ACTION_FAILED                 MAKE_SQLSTATE('L','W','4','2','4')

#endif							/* LC_ERRCODES_H */
