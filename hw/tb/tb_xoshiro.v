// tb_xoshiro: replays a `lpmc vectors xoshiro` directory: lpmc_xoshiro_seed derives the
// state of (Seed, Stream), which must equal the first row's s0..s3; lpmc_xoshiro256pp is
// loaded with it and every row's state and word are compared, one row per cycle.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
module tb_xoshiro #(
  parameter [63:0]  Seed   = 64'd0,
  parameter [63:0]  Stream = 64'd0,
  parameter integer N      = 1,
  parameter Dir = "."
) (
  output reg        done_o,
  output reg [31:0] mismatches_o
);
  reg [63:0] s0_m [0:N-1];
  reg [63:0] s1_m [0:N-1];
  reg [63:0] s2_m [0:N-1];
  reg [63:0] s3_m [0:N-1];
  reg [63:0] word_m [0:N-1];
  reg clk = 1'b0;
  reg load, en;
  wire [255:0] seeded, state_w;
  wire [63:0]  word_w;

  lpmc_xoshiro_seed seed_u (.seed_i(Seed), .stream_i(Stream), .state_o(seeded));
  lpmc_xoshiro256pp dut (
    .clk_i(clk), .load_i(load), .state_i(seeded), .en_i(en),
    .word_o(word_w), .state_o(state_w)
  );

  always #5 clk = ~clk;

  integer i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/s0.hex"}, s0_m);
    $readmemh({Dir, "/s1.hex"}, s1_m);
    $readmemh({Dir, "/s2.hex"}, s2_m);
    $readmemh({Dir, "/s3.hex"}, s3_m);
    $readmemh({Dir, "/word.hex"}, word_m);
    load = 1'b1;
    en = 1'b0;
    #1;
    if (seeded !== {s3_m[0], s2_m[0], s1_m[0], s0_m[0]}) begin
      mismatches_o = mismatches_o + 1;
      $display("%0s: seeded state %h, expected %h", Dir, seeded,
               {s3_m[0], s2_m[0], s1_m[0], s0_m[0]});
    end
    @(posedge clk);
    #1 load = 1'b0;
    en = 1'b1;
    for (i = 0; i < N; i = i + 1) begin
      if (word_w !== word_m[i] || state_w !== {s3_m[i], s2_m[i], s1_m[i], s0_m[i]}) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: word %0d: %h, expected %h", Dir, i, word_w, word_m[i]);
      end
      @(posedge clk);
      #1;
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
