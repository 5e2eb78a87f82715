using System.Globalization;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Server.Routing;

namespace Parley.Server.Operations;

/// <summary>What an operator command printed, and whether it did what was asked (<c>parley admin</c>'s exit code).</summary>
public sealed record OperatorReply(bool Ok, IReadOnlyList<string> Lines)
{
    internal static OperatorReply Done(params string[] lines) => new(true, lines);

    internal static OperatorReply Failed(string line) => new(false, [line]);
}

/// <summary>
/// The server console's commands (issue #7; seed 004's <c>TERMINATE</c>), one line in, a few lines out. The same
/// instance serves the server's stdin and <c>parley admin</c> over the admin socket, so both say exactly the same.
/// Command words are case-insensitive; the log records which command ran, never a notice's text or a kick reason.
/// </summary>
internal sealed class OperatorCommands(ChatRouter router, Hosting.ServerLifetime lifetime, ParleyServerOptions options, TimeProvider time,
    ILogger<OperatorCommands> logger)
{
    private static readonly HashSet<string> Verbs = ["help", "?", "users", "sessions", "kick", "broadcast", "terminate"];

    public static IReadOnlyList<string> Help { get; } =
    [
        "Commands:",
        "  users                 who is online, since when, from where",
        "  sessions              the chat sessions in progress",
        "  kick <id> [reason]    disconnect a user, telling them the reason (they may log on again)",
        "  broadcast <text>      a notice to everyone online",
        "  TERMINATE             shut down: clients are told, chats end, history is committed",
        "  help                  this list",
    ];

    /// <summary>Runs one command line; <paramref name="source"/> ("console", "admin socket") is for the log.</summary>
    public OperatorReply Execute(string line, string source)
    {
        var text = line.Trim();
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var verb = (space < 0 ? text : text[..space]).ToLowerInvariant();
        var rest = space < 0 ? "" : text[(space + 1)..].Trim();
        if (verb.Length > 0)
        {
            // Only a known word: anything else typed there (a password pasted into the wrong window, control characters) stays out of the log.
            logger.LogInformation("Operator command {Command} from the {Source}", Verbs.Contains(verb) ? verb : "(unknown)", source);
        }

        return verb switch
        {
            "" => OperatorReply.Done(),
            "help" or "?" => new OperatorReply(true, Help),
            "users" => Users(),
            "sessions" => Sessions(),
            "kick" => Kick(rest),
            "broadcast" => Broadcast(rest),
            "terminate" => Terminate(source),
            _ => OperatorReply.Failed($"Unknown command \"{Display(verb)}\"; type help for the list."),
        };
    }

    private OperatorReply Users()
    {
        var peers = PeersInSessions();
        var clients = router.Snapshot().OrderBy(c => c.ClientId, StringComparer.OrdinalIgnoreCase).ToArray();
        if (clients.Length == 0)
        {
            return OperatorReply.Done("No users online");
        }

        var width = clients.Max(c => c.ClientId.Length);
        var lines = new List<string>(clients.Length + 1) { clients.Length == 1 ? "1 user online:" : $"{clients.Length} users online:" };
        foreach (var client in clients)
        {
            var chat = peers.TryGetValue(client.ClientId, out var peer) ? $"  chatting with {peer}" : "";
            lines.Add($"  {client.ClientId.PadRight(width)}  since {Time(client.ConnectedAt)}  from {client.RemoteEndPoint}{chat}");
        }

        return new OperatorReply(true, lines);
    }

    private OperatorReply Sessions()
    {
        var sessions = router.Sessions().OrderBy(s => s.StartedAt).ToArray();
        if (sessions.Length == 0)
        {
            return OperatorReply.Done("No chat sessions");
        }

        var lines = new List<string>(sessions.Length + 1) { sessions.Length == 1 ? "1 chat session:" : $"{sessions.Length} chat sessions:" };
        lines.AddRange(sessions.Select(s => $"  {s.Id}  {s.A.ClientId} and {s.B.ClientId}  since {Time(s.StartedAt)}"));
        return new OperatorReply(true, lines);
    }

    private OperatorReply Kick(string arguments)
    {
        var space = arguments.IndexOf(' ', StringComparison.Ordinal);
        var id = space < 0 ? arguments : arguments[..space];
        var reason = space < 0 ? "" : arguments[(space + 1)..].Trim();
        if (id.Length == 0)
        {
            return OperatorReply.Failed("Usage: kick <id> [reason]");
        }

        if (TooLong(reason) is { } tooLong)
        {
            return tooLong;
        }

        if (!ClientIds.IsValid(id) || router.TryGetOnline(id) is not { } client)
        {
            return OperatorReply.Failed($"{Display(id)} is not online.");
        }

        client.Close("kicked by the operator", new Error(ErrorCodes.Kicked,
            reason.Length == 0 ? "The server's operator disconnected you." : $"The server's operator disconnected you: {reason}"));
        logger.LogInformation("Operator disconnected {ClientId}", client.ClientId);
        return OperatorReply.Done($"Disconnected {client.ClientId}");
    }

    private OperatorReply Broadcast(string text)
    {
        if (text.Length == 0)
        {
            return OperatorReply.Failed("Usage: broadcast <text>");
        }

        if (TooLong(text) is { } tooLong)
        {
            return tooLong;
        }

        var notice = new Notice(text, time.GetUtcNow().ToUnixTimeMilliseconds());
        var told = router.Snapshot().Count(c => c.TryEnqueue(notice));
        logger.LogInformation("Operator notice sent to {Count} clients", told);
        return OperatorReply.Done(told == 1 ? "Notice sent to 1 user" : $"Notice sent to {told} users");
    }

    private OperatorReply Terminate(string source)
    {
        lifetime.RequestStop($"TERMINATE from the {source}");
        return OperatorReply.Done("Shutting down");
    }

    /// <summary>A notice or reason must fit in a record like a chat message does.</summary>
    private OperatorReply? TooLong(string text) =>
        System.Text.Encoding.UTF8.GetByteCount(text) > options.MaxMessageBytes
            ? OperatorReply.Failed($"That text is longer than {options.MaxMessageBytes} bytes (--max-message-bytes); nothing was sent.")
            : null;

    private Dictionary<string, string> PeersInSessions()
    {
        var peers = new Dictionary<string, string>(ClientIds.Comparer);
        foreach (var session in router.Sessions())
        {
            peers[session.A.ClientId] = session.B.ClientId;
            peers[session.B.ClientId] = session.A.ClientId;
        }

        return peers;
    }

    private static string Time(DateTimeOffset at) => at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Echoes operator input safely: no control characters, at most 32 characters.</summary>
    private static string Display(string text)
    {
        var clean = new string([.. text.Where(c => !char.IsControl(c))]);
        return clean.Length <= 32 ? clean : clean[..32] + "…";
    }
}
