package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceInfo.DeviceType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.jocl.CL;
import org.jocl.CLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Device discovery against platforms that fail in each way a driver does, beside a real platform
 * of this machine (PoCL in CI): one failing platform or device must never hide the others.
 */
@ExtendWith(TestDevices.class)
class DiscoveryTest {
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger providerLog = (Logger) LoggerFactory.getLogger(OpenClBackendProvider.class);
    private final List<Backend> opened = new ArrayList<>();

    @BeforeEach
    void captureLogs() {
        logs.start();
        providerLog.addAppender(logs);
    }

    @AfterEach
    void closeAndDetach() {
        providerLog.detachAppender(logs);
        opened.forEach(Backend::close);
    }

    // ---- platforms and devices that fail ----------------------------------------------------------

    /** A platform of this machine with a device (PoCL in CI), as the real source gives it. */
    private static ClPlatformSource.Platform realPlatform() {
        for (ClPlatformSource.Platform p : new JoclPlatforms().platforms()) {
            try {
                if (!p.devices().isEmpty()) {
                    return p;
                }
            } catch (CLException e) {
                // a platform that fails here is what the other tests are about
            }
        }
        throw new AssertionError("no real OpenCL platform with a device, though TestDevices found one");
    }

    private record FakePlatform(String name, String version, Supplier<List<ClPlatformSource.Candidate>> lister)
            implements ClPlatformSource.Platform {
        @Override
        public List<ClPlatformSource.Candidate> devices() {
            return lister.get();
        }
    }

    /** A platform under another name that lists the devices of {@code real}. */
    private static FakePlatform renamed(String name, ClPlatformSource.Platform real) {
        return new FakePlatform(name, real.version(), real::devices);
    }

    private static FakePlatform failingToList(String name, int status) {
        return new FakePlatform(name, "OpenCL 3.0", () -> {
            throw new CLException(CL.stringFor_errorCode(status), status);
        });
    }

    private static ClPlatformSource.Candidate failingToOpen(String name, int status) {
        return new ClPlatformSource.Candidate() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public DeviceType type() {
                return DeviceType.GPU;
            }

            @Override
            public OpenClBackend open(int index) {
                throw new CLException(CL.stringFor_errorCode(status), status);
            }
        };
    }

    private List<Backend> discover(OpenClBackendProvider p) {
        List<Backend> found = p.discover();
        opened.addAll(found);
        return found;
    }

    private List<String> warnings() {
        return logs.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    @Test
    void aPlatformThatRejectsTheDeviceQueryIsSkippedAndTheOthersAreUsed() {
        ClPlatformSource.Platform real = realPlatform();
        int realDevices = real.devices().size();
        // as on a desktop with Mesa beside the real driver: Rusticl rejecting the query, Clover with no GPU
        OpenClBackendProvider p = new OpenClBackendProvider(() -> List.of(
                failingToList("rusticl", CL.CL_INVALID_DEVICE_TYPE),
                new FakePlatform("Clover", "OpenCL 1.1 Mesa", List::of),
                real));
        List<Backend> found = discover(p);

        assertEquals(realDevices, found.size(), p.report());
        assertNull(p.unavailableReason());
        for (int i = 0; i < found.size(); i++) {
            assertEquals("opencl:" + i, found.get(i).info().id());
        }
        assertEquals(List.of("skipping OpenCL platform rusticl (OpenCL 3.0): listing its devices failed with "
                + "CL_INVALID_DEVICE_TYPE"), warnings(), "one WARN, for the failing platform only");
        String report = p.report();
        assertTrue(report.contains("rusticl (OpenCL 3.0)\n    skipped: listing its devices failed with "
                + "CL_INVALID_DEVICE_TYPE"), report);
        assertTrue(report.contains("Clover (OpenCL 1.1 Mesa)\n    no devices"), report);
        assertTrue(report.contains("    opencl:0  " + found.get(0).info().name()), report);
        assertTrue(report.contains("'opencl' selects opencl:"), report);
    }

    @Test
    void aDeviceThatFailsToOpenIsSkippedAndTheNextTakesItsIndex() {
        ClPlatformSource.Platform real = realPlatform();
        ClPlatformSource.Candidate good = real.devices().get(0);
        OpenClBackendProvider p = new OpenClBackendProvider(() -> List.of(new FakePlatform("Alpha", "OpenCL 1.2",
                () -> List.of(failingToOpen("Broken GPU", CL.CL_OUT_OF_HOST_MEMORY), good))));
        List<Backend> found = discover(p);

        assertEquals(1, found.size());
        assertEquals("opencl:0", found.get(0).info().id());
        assertEquals(List.of("skipping OpenCL device Broken GPU of platform Alpha: opening it failed with "
                + "CL_OUT_OF_HOST_MEMORY"), warnings());
        OpenClBackendProvider.PlatformEntry alpha = p.platforms().get(0);
        assertEquals("opening it failed with CL_OUT_OF_HOST_MEMORY", alpha.devices().get(0).skipped());
        assertNull(alpha.devices().get(0).id());
        assertEquals("opencl:0", alpha.devices().get(1).id());
        assertTrue(p.report().contains("skipped Broken GPU (GPU): opening it failed with CL_OUT_OF_HOST_MEMORY"),
                p.report());
    }

    @Test
    void withNoUsableDeviceAnywhereTheReasonListsEveryPlatform() {
        OpenClBackendProvider p = new OpenClBackendProvider(() -> List.of(
                failingToList("rusticl", CL.CL_INVALID_DEVICE_TYPE),
                new FakePlatform("Clover", "OpenCL 1.1 Mesa", List::of),
                new FakePlatform("Vendor X", "OpenCL 2.0",
                        () -> List.of(failingToOpen("X1", CL.CL_OUT_OF_RESOURCES))),
                new FakePlatform("Vendor Y", "OpenCL 2.0", () -> {
                    throw new IllegalStateException("driver bug");
                })));
        List<Backend> found = discover(p);

        assertTrue(found.isEmpty());
        String why = p.unavailableReason();
        assertTrue(why.startsWith("OpenCL is not available: no usable device on 4 platform(s)"), why);
        assertTrue(why.contains("rusticl: skipped, listing its devices failed with CL_INVALID_DEVICE_TYPE"), why);
        assertTrue(why.contains("Clover: no devices"), why);
        assertTrue(why.contains("Vendor X: X1 skipped, opening it failed with CL_OUT_OF_RESOURCES"), why);
        assertTrue(why.contains("Vendor Y: skipped, listing its devices failed with "
                + "java.lang.IllegalStateException: driver bug"), why);
        assertTrue(p.report().endsWith("no usable OpenCL device: " + why), p.report());
        // three WARNs, one per failure, and the summary
        assertEquals(4, warnings().size(), warnings().toString());
        assertEquals(why, warnings().get(3));
    }

    @Test
    void noLoaderNoPlatformAndAnEmptyListEachSayWhy() {
        OpenClBackendProvider noLoader = new OpenClBackendProvider(() -> {
            throw new UnsatisfiedLinkError("libOpenCL.so: cannot open shared object file");
        });
        assertTrue(discover(noLoader).isEmpty());
        assertTrue(noLoader.unavailableReason().contains("the OpenCL ICD loader libOpenCL.so could not be loaded"),
                noLoader.unavailableReason());

        OpenClBackendProvider noDriver = new OpenClBackendProvider(() -> {
            throw new CLException("CL_PLATFORM_NOT_FOUND_KHR", CL.CL_PLATFORM_NOT_FOUND_KHR);
        });
        assertTrue(discover(noDriver).isEmpty());
        assertTrue(noDriver.unavailableReason().contains("no OpenCL platform (driver) is installed"),
                noDriver.unavailableReason());

        OpenClBackendProvider none = new OpenClBackendProvider(List::of);
        assertTrue(discover(none).isEmpty());
        assertTrue(none.unavailableReason().contains("no OpenCL platform (driver) is installed"),
                none.unavailableReason());
    }

    @Test
    void aPlatformWhoseNameCannotBeReadIsSkipped() {
        ClPlatformSource.Platform real = realPlatform();
        ClPlatformSource.Platform nameless = new ClPlatformSource.Platform() {
            @Override
            public String name() {
                throw new CLException("CL_INVALID_PLATFORM", CL.CL_INVALID_PLATFORM);
            }

            @Override
            public String version() {
                return "";
            }

            @Override
            public List<ClPlatformSource.Candidate> devices() {
                throw new AssertionError("a platform without a name is not probed further");
            }
        };
        OpenClBackendProvider p = new OpenClBackendProvider(() -> List.of(nameless, real));
        assertFalse(discover(p).isEmpty());
        assertEquals(List.of("skipping OpenCL platform platform #0: reading its name failed with CL_INVALID_PLATFORM"),
                warnings());
        assertEquals("platform #0", p.platforms().get(p.platforms().size() - 1).name(), "unreadable ones last");
    }

    // ---- indices and the choice of 'opencl' ----------------------------------------------------------

    @Test
    void indicesFollowPlatformNamesNotTheLoadersOrder() {
        ClPlatformSource.Platform real = realPlatform();
        // the same device under two platform names, listed by the loader in both orders
        for (boolean zetaFirst : new boolean[] {true, false}) {
            FakePlatform zeta = renamed("Zeta", real);
            FakePlatform alpha = renamed("Alpha", real);
            OpenClBackendProvider p = new OpenClBackendProvider(
                    () -> zetaFirst ? List.of(zeta, alpha) : List.of(alpha, zeta));
            List<Backend> found = discover(p);
            int perPlatform = found.size() / 2;
            assertEquals(List.of("Alpha", "Zeta"), p.platforms().stream().map(e -> e.name()).toList());
            assertEquals("opencl:0", p.platforms().get(0).devices().get(0).id());
            assertEquals("opencl:" + perPlatform, p.platforms().get(1).devices().get(0).id());
        }
    }

    @Test
    void openclAlonePicksGpuThenAcceleratorThenCpuAndTheLowestIndexAmongEquals() {
        assertEquals(2, OpenClBackendProvider.preferred(
                List.of(DeviceType.CPU, DeviceType.ACCELERATOR, DeviceType.GPU, DeviceType.GPU)));
        assertEquals(1, OpenClBackendProvider.preferred(List.of(DeviceType.CPU, DeviceType.ACCELERATOR)));
        assertEquals(1, OpenClBackendProvider.preferred(List.of(DeviceType.OTHER, DeviceType.CPU)));
        assertEquals(0, OpenClBackendProvider.preferred(List.of(DeviceType.CPU, DeviceType.CPU)));
        assertEquals(0, OpenClBackendProvider.preferred(List.of(DeviceType.GPU)));
    }

    // ---- the real platforms of this machine -------------------------------------------------------------

    @Test
    void theRealPlatformsAnswerTheSpecificationsDeviceTypeMask() {
        // JOCL's constant is the sign-extended 64-bit value that Rusticl rejects
        assertNotEquals(CL.CL_DEVICE_TYPE_ALL, JoclPlatforms.DEVICE_TYPE_ALL);
        OpenClBackendProvider p = new OpenClBackendProvider();
        assertFalse(discover(p).isEmpty(), p.report());
        for (OpenClBackendProvider.PlatformEntry e : p.platforms()) {
            assertFalse(e.skipped() != null && e.skipped().contains("CL_INVALID_DEVICE_TYPE"), p.report());
        }
        // CI installs Mesa's Clover and Rusticl beside PoCL, as on a desktop, and names them here
        String expected = System.getenv("SPOOL_EXPECT_OPENCL_PLATFORMS");
        if (expected != null && !expected.isBlank()) {
            List<String> names = p.platforms().stream().map(OpenClBackendProvider.PlatformEntry::name).toList();
            for (String name : expected.split(",")) {
                assertTrue(names.contains(name.trim()), "platform '" + name.trim() + "' expected in " + names);
            }
        }
    }

    @Test
    void deviceReportPrintsEveryPlatformAndFailsWithoutADevice() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean ok = DeviceReport.print(new OpenClBackendProvider(() -> List.of(
                failingToList("rusticl", CL.CL_INVALID_DEVICE_TYPE), realPlatform())),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(ok, out);
        assertTrue(out.startsWith("OpenCL: 2 platform(s)"), out);
        assertTrue(out.contains("skipped: listing its devices failed with CL_INVALID_DEVICE_TYPE"), out);
        assertTrue(out.contains("    opencl:0  "), out);

        bytes.reset();
        assertFalse(DeviceReport.print(new OpenClBackendProvider(() -> List.of(
                failingToList("rusticl", CL.CL_INVALID_DEVICE_TYPE))), new PrintStream(bytes, true,
                StandardCharsets.UTF_8)));
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("no usable OpenCL device: OpenCL is not available"),
                bytes.toString(StandardCharsets.UTF_8));
    }
}
