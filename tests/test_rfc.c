/* placeholder, being written */
#include "tests.h"

Suite *
rfc_suite(void)
{
    return suite_create("rfc");
}
