package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Proves which path a test run exercised: each Surefire execution states what it expects. */
class VectorSupportTest {
    @Test
    void simdPathsAreOnExactlyWhenTheModuleIsThere() {
        String expected = System.getProperty("spool.test.vector", "");
        boolean moduleThere = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(moduleThere, VectorSupport.ENABLED, "SIMD enabled iff the module is resolved");
        if (!expected.isEmpty()) {
            assertEquals(Boolean.parseBoolean(expected), VectorSupport.ENABLED,
                    "this Surefire execution expects spool.test.vector=" + expected);
        }
    }
}
