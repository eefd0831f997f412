/*
 * lua_validate.c - placeholder: the validate bindings are not built yet.
 */
#include "jpl.h"

void jpl_open_validate(lua_State *L)
{
    (void)L;
}
