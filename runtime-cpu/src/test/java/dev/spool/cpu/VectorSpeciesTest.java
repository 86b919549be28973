package dev.spool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SIMD kernels' vector species (not run by the scalar execution, which has no Vector API). */
class VectorSpeciesTest {
    @BeforeAll
    static void vectorApi() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "no Vector API in this JVM: no species to check");
    }

    /**
     * One vector shape per element type, the preferred one: on JDK 17 a second float shape (the
     * reductions once used 4-float vectors) makes the type profiles inside the Vector API's shared
     * methods bimorphic, and C2 then leaves loads and stores in every other kernel to the Java
     * fallback (the attention forward ran 3.5x slower once a sum had run).
     */
    @Test
    void everyKernelUsesThePreferredSpecies() throws Exception {
        Path dir = Path.of(CpuBackend.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/spool/cpu");
        assertTrue(Files.isDirectory(dir), "the cpu classes are read from a directory: " + dir);
        List<String> checked = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".class")) {
                    continue;
                }
                Class<?> c = Class.forName("dev.spool.cpu." + name.substring(0, name.length() - 6), false,
                        getClass().getClassLoader());
                for (Field field : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(field.getModifiers())
                            || field.getType() != VectorSpecies.class) {
                        continue;
                    }
                    field.setAccessible(true);
                    VectorSpecies<?> species = (VectorSpecies<?>) field.get(null);
                    Class<?> element = species.elementType();
                    if (element == float.class || element == double.class) {
                        assertEquals(VectorShape.preferredShape(), species.vectorShape(),
                                c.getSimpleName() + "." + field.getName() + " is " + species);
                        checked.add(c.getSimpleName() + "." + field.getName());
                    }
                }
            }
        }
        assertTrue(checked.size() >= 8, "found the kernels' species: " + checked);
    }
}
