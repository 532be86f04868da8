// oneDNN's C API for Swift: dnnl.h does not include dnnl_debug.h, and omp.h is not on clang's path.
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
void omp_set_num_threads(int);
int omp_get_max_threads(void);
