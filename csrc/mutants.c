/* mutants.c: the one registry of mutants, by name (mutants.h).
 *
 * Every piece's mutants are bits of rt->work.mutant; mutantnames maps each
 * name to its bit.  Setting a name replaces the previous selection, so a
 * run has at most one mutant on; "none" clears it.  In the release build
 * any name but "none" is GCRT_ESTATE (the buggy branches are compiled out).
 */
#include <string.h>

#include "runtime.h"
#include "mutants.h"

static const struct {
	const char *name;
	uint32_t bit;
} mutantnames[] = {
    {"getfull_partial", M_GETFULL_PARTIAL},
    {"lf_aba", M_LF_ABA},
    {"lf_next_after_cas", M_LF_NEXT_AFTER_CAS},
    {"lf_free_node", M_LF_FREE_NODE},
    {"getfull_order", M_GETFULL_ORDER},
    {"parfor_blind_steal", M_PARFOR_BLIND_STEAL},
    {"sweep_double", M_SWEEP_DOUBLE},
    {"finishsweep_nowait", M_FINISHSWEEP_NOWAIT},
    {"wb_off", M_WB_OFF},
    {"markbit_nonatomic", M_MARKBIT_NONATOMIC},
    {"bgsweep_nostop", M_BGSWEEP_NOSTOP},
    {"copy_read_then_cas", M_COPY_READ_THEN_CAS},
    {"stopg_blind_store", M_STOPG_BLIND_STORE},
    {"scan_miss", M_SCAN_MISS},
    {"copy_no_gcopystack", M_COPY_NO_GCOPYSTACK},
    {"park_no_recheck", M_PARK_NO_RECHECK},
};

GCRT_API int gcrt_test_set_mutant(gcrt_runtime *rt, const char *name)
{
	int rc = rt_check_args(rt, name == NULL);
	if (rc != GCRT_OK)
		return rc;
	uint32_t bits = 0;
	if (strcmp(name, "none") != 0) {
		size_t i = 0;
		while (i < nelem(mutantnames) && strcmp(mutantnames[i].name, name) != 0)
			i++;
		if (i == nelem(mutantnames))
			return GCRT_EINVAL;
		bits = mutantnames[i].bit;
	}
	if (!GCRT_SCHED && bits != 0)
		return GCRT_ESTATE;
	ATOMIC_STORE(rt, "test.mutant.set", &rt->work.mutant, bits);
	return GCRT_OK;
}

GCRT_API const char *gcrt_test_mutant_name(int i)
{
	return i >= 0 && (size_t)i < nelem(mutantnames) ? mutantnames[i].name : NULL;
}
