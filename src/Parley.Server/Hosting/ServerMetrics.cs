using System.Diagnostics.Metrics;
using Parley.Protocol.Messages;

namespace Parley.Server.Hosting;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics, readable with <c>dotnet-counters monitor --counters Parley.Server</c>).
/// Issue #6 needs the first two to prove a direct chat (seed 000) passes no chat bytes through the server; issue #7
/// builds the operator's metrics on the same meter.
/// </summary>
internal static class ServerMetrics
{
    public const string MeterName = "Parley.Server";
    private static readonly Meter Meter = new(MeterName);

    /// <summary>Chat messages (CHAT, DM, SAY) received from clients.</summary>
    private static readonly Counter<long> ChatMessages = Meter.CreateCounter<long>("parley.chat.messages.received", "{message}",
        "Chat messages (CHAT, DM, SAY) received from clients");

    /// <summary>Their bodies' UTF-8 bytes.</summary>
    private static readonly Counter<long> ChatBytes = Meter.CreateCounter<long>("parley.chat.bytes.received", "By",
        "UTF-8 bytes of the chat message bodies received from clients");

    /// <summary>Counts <paramref name="message"/> if it carries chat content; everything else (PING, LIST…) is not chat.</summary>
    public static void Received(ParleyMessage message)
    {
        var body = message switch
        {
            Chat chat => chat.Message,
            Dm dm => dm.Message,
            Say say => say.Message,
            _ => null,
        };
        if (body is not null)
        {
            ChatMessages.Add(1);
            ChatBytes.Add(System.Text.Encoding.UTF8.GetByteCount(body));
        }
    }
}
