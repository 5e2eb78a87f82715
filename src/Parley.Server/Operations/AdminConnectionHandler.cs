using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Operations;

/// <summary>
/// <c>parley admin</c>'s end of the admin socket (issue #7): a Unix-domain socket whose file mode (0600) admits only
/// the server's own user (and root). One command line in; out, a status line (<c>ok</c> or <c>error</c>) and the
/// command's lines; then the server closes. docs/OPERATIONS.md describes it for people using socat.
/// </summary>
internal sealed class AdminConnectionHandler(OperatorCommands commands, ILogger<AdminConnectionHandler> logger) : ConnectionHandler
{
    /// <summary>Longest command line read; a broadcast's text counts, so it is generous.</summary>
    public const int MaxLineBytes = 16 * 1024;

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        if (!AdminSocket.PeerIsOperator(connection.Features.Get<IConnectionSocketFeature>()?.Socket))
        {
            logger.LogWarning("Refused an admin connection from another user");
            return;
        }

        // A shutdown must not wait for an admin client that connected and sent nothing.
        var shutdown = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, shutdown);
        timeout.CancelAfter(ReadTimeout);
        string? line;
        try
        {
            line = await ReadLineAsync(connection.Transport.Input, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            logger.LogInformation("An admin connection sent no command");
            return;
        }

        var reply = line is null
            ? OperatorReply.Failed($"Send one command line of at most {MaxLineBytes} bytes.")
            : commands.Execute(line, "admin socket");
        var text = new StringBuilder(reply.Ok ? "ok\n" : "error\n");
        foreach (var output in reply.Lines)
        {
            text.Append(output).Append('\n');
        }

        try
        {
            await connection.Transport.Output.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), connection.ConnectionClosed).ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The admin client went away before reading its answer; the command has run all the same.
        }
    }

    /// <summary>The first line (without its newline), or null if it is longer than <see cref="MaxLineBytes"/> or not UTF-8.</summary>
    private static async Task<string?> ReadLineAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is null && buffer.Length <= MaxLineBytes && !result.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            var line = newline is { } end ? buffer.Slice(0, end) : buffer;
            string? text = null;
            if (line.Length <= MaxLineBytes)
            {
                try
                {
                    text = new UTF8Encoding(false, true).GetString(line.ToArray()).TrimEnd('\r');
                }
                catch (DecoderFallbackException)
                {
                }
            }

            input.AdvanceTo(buffer.End);
            return text;
        }
    }
}
