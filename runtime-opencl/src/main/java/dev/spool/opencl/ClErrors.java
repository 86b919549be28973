package dev.spool.opencl;

import dev.spool.BackendException;
import org.jocl.CL;
import org.jocl.CLException;

/** Turns OpenCL status codes into {@link BackendException}s that carry the symbolic name. */
final class ClErrors {
    private ClErrors() {
    }

    /** The symbolic name of a status code, e.g. {@code CL_OUT_OF_RESOURCES}. */
    static String name(int status) {
        return CL.stringFor_errorCode(status);
    }

    /** A {@link BackendException} for a failed OpenCL call made while doing {@code what}. */
    static BackendException wrap(String what, CLException e) {
        return new BackendException(what + " failed: " + name(e.getStatus())
                + " (OpenCL status " + e.getStatus() + ")", e);
    }

    /** Whether {@code e} says the device ran out of memory (worth flushing caches and retrying). */
    static boolean isOutOfMemory(CLException e) {
        int s = e.getStatus();
        return s == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL.CL_OUT_OF_RESOURCES
                || s == CL.CL_OUT_OF_HOST_MEMORY;
    }
}
