/**
 * On the module path Spool's jars are automatic modules, named by their manifests; these
 * requires fail to compile if a name is wrong. The backends (dev.spool.cpu, dev.spool.opencl)
 * need no requires: they are found with ServiceLoader.
 */
module com.example.spoolapp {
    requires dev.spool.core;
    requires dev.spool.nn;
}
