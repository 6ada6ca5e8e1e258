namespace RollingUpgrade.Cli.Commands;

/// <summary>
/// <c>rollingupgrade completion bash|zsh|fish|pwsh</c>: a script for the shell that asks this program for its
/// completions (System.CommandLine's <c>[suggest:POSITION]</c> directive: commands, options, option values) and
/// falls back to file names for the plan.
/// </summary>
internal static class CompletionCommand
{
    public static readonly string[] Shells = ["bash", "zsh", "fish", "pwsh"];

    public static string Script(string shell) =>
        shell switch
        {
            "bash" => """
                # rollingupgrade completion for bash: source <(rollingupgrade completion bash)
                _rollingupgrade_complete() {
                    local line="${COMP_LINE:0:COMP_POINT}"
                    local rest="${line#*[[:space:]]}"
                    [ "$rest" = "$line" ] && rest=""
                    local IFS=$'\n'
                    COMPREPLY=($(compgen -W "$(rollingupgrade "[suggest:${#rest}]" "$rest" 2>/dev/null)" \
                        -- "${COMP_WORDS[COMP_CWORD]}"))
                }
                complete -o default -F _rollingupgrade_complete rollingupgrade

                """,
            "zsh" => """
                #compdef rollingupgrade
                # rollingupgrade completion for zsh: source <(rollingupgrade completion zsh)
                _rollingupgrade() {
                    local line="${LBUFFER}"
                    local rest="${line#* }"
                    [[ "$rest" == "$line" ]] && rest=""
                    local -a items
                    items=("${(@f)$(rollingupgrade "[suggest:${#rest}]" "$rest" 2>/dev/null)}")
                    items=(${items:#})
                    if (( ${#items} )); then compadd -a items; else _files; fi
                }
                compdef _rollingupgrade rollingupgrade

                """,
            "fish" => """
                # rollingupgrade completion for fish: rollingupgrade completion fish | source
                function __rollingupgrade_complete
                    set -l rest (string replace -r '^\S+\s*' '' -- (commandline -cp))
                    rollingupgrade "[suggest:"(string length -- "$rest")"]" "$rest" 2>/dev/null
                end
                complete -c rollingupgrade -a '(__rollingupgrade_complete)'

                """,
            "pwsh" => """
                # rollingupgrade completion for PowerShell:
                #   rollingupgrade completion pwsh | Out-String | Invoke-Expression
                Register-ArgumentCompleter -Native -CommandName rollingupgrade -ScriptBlock {
                    param($wordToComplete, $commandAst, $cursorPosition)
                    $line = $commandAst.ToString().Substring(0, $cursorPosition - $commandAst.Extent.StartOffset)
                    $rest = $line -replace '^\S+\s*', ''
                    rollingupgrade "[suggest:$($rest.Length)]" "$rest" 2>$null | ForEach-Object {
                        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                    }
                }

                """,
            _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, "bash, zsh, fish or pwsh"),
        };
}
