package dev.spool.opencl;

import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetPlatformIDs;

import dev.spool.spi.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/** The platforms and devices of the OpenCL runtime installed here, through JOCL. */
final class JoclPlatforms implements ClPlatformSource {

    /** The specification's CL_DEVICE_TYPE_ALL (see {@link OpenClBackendProvider#DEVICE_TYPE_ALL}). */
    static final long DEVICE_TYPE_ALL = OpenClBackendProvider.DEVICE_TYPE_ALL;

    @Override
    public List<Platform> platforms() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] ids = new cl_platform_id[count[0]];
        clGetPlatformIDs(ids.length, ids, null);
        List<Platform> out = new ArrayList<>();
        for (cl_platform_id id : ids) {
            out.add(new JoclPlatform(id));
        }
        return out;
    }

    private record JoclPlatform(cl_platform_id id) implements Platform {
        @Override
        public String name() {
            return OpenClDevice.platformString(id, CL_PLATFORM_NAME).trim();
        }

        @Override
        public String version() {
            return OpenClDevice.platformString(id, CL_PLATFORM_VERSION).trim();
        }

        @Override
        public List<Candidate> devices() {
            int[] n = new int[1];
            try {
                clGetDeviceIDs(id, DEVICE_TYPE_ALL, 0, null, n);
            } catch (CLException e) {
                if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                    return List.of();
                }
                throw e;
            }
            cl_device_id[] devices = new cl_device_id[n[0]];
            clGetDeviceIDs(id, DEVICE_TYPE_ALL, devices.length, devices, null);
            List<Candidate> out = new ArrayList<>();
            for (cl_device_id d : devices) {
                out.add(new JoclDevice(id, d));
            }
            return out;
        }
    }

    private record JoclDevice(cl_platform_id platform, cl_device_id id) implements Candidate {
        @Override
        public String name() {
            return OpenClDevice.string(id, CL_DEVICE_NAME).trim();
        }

        @Override
        public DeviceInfo.DeviceType type() {
            return OpenClDevice.typeOf(OpenClDevice.longInfo(id, CL_DEVICE_TYPE));
        }

        @Override
        public OpenClBackend open(int index) {
            OpenClDevice device = new OpenClDevice(index, platform, id);
            try {
                return new OpenClBackend(device);
            } catch (RuntimeException | Error e) {
                device.close();
                throw e;
            }
        }
    }
}
