using System.Globalization;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// The soak's message bodies. Each names its own origin (<c>soak c|d|s</c> and up to three numbers), so a receiver
/// accounts for a copy without waiting to hear from the sender: a live DM reaches its recipient before DM_SENT reaches
/// its sender (§11.2). Each is padded to a length drawn from its numbers, 0 to 599 characters (an end-to-end envelope of
/// a short line is about 500, docs/PERFORMANCE.md), so a receiver can also rebuild the whole body and catch a copy
/// that was cut or altered.
/// </summary>
internal static class SoakBodies
{
    public const char ChatKind = 'c';
    public const char DmKind = 'd';
    public const char SayKind = 's';

    /// <summary>A CHAT: the <paramref name="n"/>th from client <paramref name="from"/> in the soak's session <paramref name="serial"/>.</summary>
    public static string Chat(long serial, int from, long n) => Make(ChatKind, serial, from, n);

    /// <summary>A DM: client <paramref name="from"/>'s DM with its own label <paramref name="id"/>.</summary>
    public static string Dm(int from, long id) => Make(DmKind, 0, from, id);

    /// <summary>A SAY: client <paramref name="from"/>'s <paramref name="n"/>th.</summary>
    public static string Say(int from, long n) => Make(SayKind, 0, from, n);

    /// <summary>Reads a body back; false unless it is exactly what <see cref="Make"/> writes for the numbers it names.</summary>
    public static bool TryParse(string body, char kind, out long serial, out int from, out long n)
    {
        serial = 0;
        from = -1;
        n = 0;
        var parts = body.Split(' ', 6);
        if (parts.Length != 6 || parts[0] != "soak" || parts[1].Length != 1 || parts[1][0] != kind
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out serial)
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out from)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out n))
        {
            return false;
        }

        return body == Make(kind, serial, from, n);
    }

    private static string Make(char kind, long serial, int from, long n) =>
        string.Create(CultureInfo.InvariantCulture, $"soak {kind} {serial} {from} {n} {new string('x', Padding(serial, from, n))}");

    private static int Padding(long serial, int from, long n) => (int)(((ulong)serial * 7919 + (ulong)from * 104_729 + (ulong)n * 31) % 600);
}
