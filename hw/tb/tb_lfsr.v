// tb_lfsr: replays a `lpmc vectors lfsr` directory on lpmc_lfsr (64 steps per cycle): loads
// the first row's state, then compares state and word of every row, one row per cycle.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
module tb_lfsr #(
  parameter integer Width = 32,
  parameter [63:0]  Taps  = 64'h8020_0003,
  parameter integer N     = 1,
  parameter Dir = "."
) (
  output reg        done_o,
  output reg [31:0] mismatches_o
);
  reg [Width-1:0] state_m [0:N-1];
  reg [63:0]      word_m  [0:N-1];
  reg clk = 1'b0;
  reg load, en;
  reg  [Width-1:0] st_in;
  wire [63:0]      word_w;
  wire [Width-1:0] state_w;

  lpmc_lfsr #(.Width(Width), .Taps(Taps), .StepsPerCycle(64)) dut (
    .clk_i(clk), .load_i(load), .state_i(st_in), .en_i(en),
    .bits_o(word_w), .state_o(state_w)
  );

  always #5 clk = ~clk;

  integer i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/state.hex"}, state_m);
    $readmemh({Dir, "/word.hex"}, word_m);
    load = 1'b1;
    en = 1'b0;
    st_in = state_m[0];
    @(posedge clk);
    #1 load = 1'b0;
    en = 1'b1;
    for (i = 0; i < N; i = i + 1) begin
      if (word_w !== word_m[i] || state_w !== state_m[i]) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: word %0d: state %h word %h, expected %h %h",
                   Dir, i, state_w, word_w, state_m[i], word_m[i]);
      end
      @(posedge clk);
      #1;
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
