/*
** JSON Schema validation of tool arguments and structured output.
**
** A subset of JSON Schema (draft 2020-12 semantics) over orc_json values:
** type (a name or a list; "integer" accepts 2.0), enum, const,
** properties, required, additionalProperties (boolean or schema), items
** (one schema), minItems/maxItems, minimum/maximum,
** exclusiveMinimum/exclusiveMaximum (numbers), minLength/maxLength (in
** code points), nested to any depth. Other keywords (description, title,
** format, $schema, ...) are ignored, as validators do for unknown
** keywords; true/false schemas accept everything/nothing.
*/
#ifndef ORCHESTRA_SCHEMA_INT_H
#define ORCHESTRA_SCHEMA_INT_H

#include "orchestra/json.h"

/* Validate v against schema (both borrowed). Returns ORC_OK, or
** ORC_EINVAL for the first violation found: err->where is the JSON pointer
** of the offending value in v ("" for v itself, "/items/2/id") and
** err->message starts with that pointer ("/items/2/id: expected string,
** got integer"). ORC_EINVAL is also returned, with where naming the
** keyword's pointer in the schema, when the schema itself is malformed
** (see orci_schema_check). */
int orci_schema_validate(const orc_json *schema, const orc_json *v,
                         orc_error *err);

/* Check that schema (borrowed) is one orci_schema_validate can apply: an
** object or boolean whose keywords we know have the right shapes
** ("type": a known name or list of names, "required": strings,
** "properties": object of schemas, "minimum": a number, ...). Returns
** ORC_OK, or ORC_EINVAL with err->where the JSON pointer of the bad
** keyword inside the schema ("/properties/id/type"). */
int orci_schema_check(const orc_json *schema, orc_error *err);

#endif
