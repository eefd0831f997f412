/*
 * lua_verbs.c - placeholder: the verbs bindings are not built yet.
 */
#include "jpl.h"

void jpl_open_verbs(lua_State *L)
{
    (void)L;
}
