using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Parley.Server.Operations;

/// <summary>
/// The file-system side of the admin socket (issue #7). Its access control is the socket file's mode (0600, set
/// right after binding); on Linux the server also checks each connection's peer user ID, which closes the moment
/// between bind and chmod and covers a socket path outside the 0700 data directory.
/// </summary>
internal static partial class AdminSocket
{
    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int FileTypeMask = 0xF000;
    private const int SocketType = 0xC000;
    private const int SolSocket = 1;
    private const int SoPeerCred = 17; // x86, x64, Arm and Arm64 Linux

    /// <summary>
    /// Checks the path before Kestrel binds it: short enough for a Unix socket, and not the socket of another server that
    /// is still running (two servers on one data directory would share its database). A socket nobody answers on is left
    /// from a crash and is removed; anything else at the path (a file, a directory) is refused and left alone.
    /// </summary>
    public static string Prepare(string path)
    {
        path = Path.GetFullPath(path);
        if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
        {
            throw new ArgumentException($"--admin-socket: {path} is too long for a Unix socket (at most 107 bytes); give a shorter path, or none.");
        }

        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return path;
        }

        using (var probe = new Socket(AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new InvalidOperationException($"Another Parley server is running with the admin socket {path} (the same data directory?); stop it first, or give this one another --admin-socket.");
            }
            catch (SocketException)
            {
                // Nobody answers: a stale socket, or something that is not a socket at all.
            }
        }

        if (IsSocket(path) is not true)
        {
            throw new ArgumentException($"--admin-socket: {path} exists and is not a socket left by a stopped server; it is left alone. Remove it, or give another path.");
        }

        TryDelete(path);
        return path;
    }

    /// <summary>Whether the peer of an admin connection runs as the server's own user or as root; true where Linux cannot say.</summary>
    public static bool PeerIsOperator(Socket? socket)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64 or Architecture.X86 or Architecture.Arm))
        {
            return true; // the file mode alone decides
        }

        if (socket is null)
        {
            return false;
        }

        var credentials = new byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        try
        {
            socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
        }
        catch (SocketException)
        {
            return false;
        }

        var uid = BitConverter.ToUInt32(credentials, 4);
        return uid == 0 || uid == GetEffectiveUserId();
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next start, which removes a socket nobody answers on.
        }
    }

    /// <summary>statx(2) has the same layout on every Linux architecture: stx_mode is the 16 bits at offset 28.</summary>
    private static bool? IsSocket(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = new byte[256];
        try
        {
            if (Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
            {
                return null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a C library older than glibc 2.28
        }

        return (BitConverter.ToUInt16(buffer, 28) & FileTypeMask) == SocketType;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
