namespace Parley.Cli.Terminal;

/// <summary>Where the chat client reads lines and prints events: a terminal with a line editor, or plain stdio for scripts.</summary>
internal interface IChatConsole : IAsyncDisposable
{
    /// <summary>True on a real terminal; hints and prompts are shown only then.</summary>
    bool IsInteractive { get; }

    /// <summary>Lines the user entered, in order; completes at end of input.</summary>
    IAsyncEnumerable<string> ReadLinesAsync(CancellationToken cancellationToken);

    /// <summary>Prints one event line without disturbing what the user is typing.</summary>
    void WriteLine(string text);

    void SetPrompt(string prompt);

    /// <summary>Reads a password without echo (interactive only).</summary>
    Task<string?> ReadSecretAsync(string prompt, CancellationToken cancellationToken);
}
